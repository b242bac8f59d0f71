"""What a hostile client can put on the wire, against the real broker and the real consumer.

Each message is written as raw AMQP where pika would not write it, and each is
followed by a valid neighbour: the poison is settled on its own, with its
reason, the neighbour is handled, and the consumer's connection stays up.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage

from tests import hostile_amqp as raw
from tests.hostile_amqp import Field, encode_properties, nested
from tests.integration.consumer_harness import (
    QUEUE,
    ScriptedBus,
    connection,
    consuming,
    dead_letters,
    publish,
    until,
)
from worker.messaging import headers as h
from worker.messaging import topology

pytestmark = pytest.mark.integration

__all__ = ["connection"]  # a fixture

MALFORMED = b'{"account_id": '
VALID = json.dumps({"account_id": "acc-1", "amount": "1.00", "currency": "EUR"}).encode()
JSON = "application/json"


def send_json(url: str, body: bytes, routing_key: str | bytes = "Deposit", **props: Any) -> None:
    """A Deposit (or ``routing_key``) through pika's own encoder, as JSON."""
    props.setdefault("content_type", "application/json")
    raw.publish_with_pika(url, topology.COMMANDS_EXCHANGE, routing_key, body, **props)


def send_raw(url: str, body: bytes, **fields: Any) -> None:
    raw.publish_raw(url, topology.COMMANDS_EXCHANGE, "Deposit", body, encode_properties(**fields))


async def poison_then_neighbour(
    connection: AbstractConnection, url: str, publish_poison: Callable[[], None]
) -> tuple[AbstractIncomingMessage, ScriptedBus]:
    bus = ScriptedBus(lambda mid, _: None)
    consumer = await consuming(connection, bus)
    await asyncio.to_thread(publish_poison)
    await publish(await connection.channel(), "neighbour")
    [dead] = await dead_letters(await connection.channel(), 1)
    await until(lambda: "neighbour" in bus.calls)
    await consumer.stop(0)
    assert not connection.is_closed, "the consumer's connection stayed up"
    return dead, bus


UNDECODABLE: dict[str, dict[str, Any]] = {
    "a non-UTF-8 message_id": {"message_id": b"\xff\xfeid"},
    "a non-UTF-8 correlation_id": {"message_id": "m-1", "correlation_id": b"\xc3("},
    "a non-UTF-8 header name": {"headers": {b"\xffname": "x"}, "message_id": "m-2"},
    "a timestamp of 2**63-1": {"message_id": "m-3", "timestamp": 2**63 - 1},
    "a timestamp header of 2**63-1": {
        "headers": {"when": Field("T", 2**63 - 1)},
        "message_id": "m-4",
    },
    "a header table nested 600 deep": {"headers": nested(600), "message_id": "m-5"},
    "a header table nested 400 deep": {"headers": nested(400), "message_id": "m-6"},
}


@pytest.mark.parametrize("fields", UNDECODABLE.values(), ids=UNDECODABLE.keys())
async def test_a_message_whose_properties_cannot_be_decoded_is_dead_lettered_alone(
    connection: AbstractConnection, vhost_url: str, fields: dict[str, Any]
) -> None:
    fields = {"content_type": JSON, **fields}
    dead, bus = await poison_then_neighbour(
        connection, vhost_url, lambda: send_raw(vhost_url, VALID, **fields)
    )

    assert dead.headers[h.ERROR_CODE] == "undecodable_properties"
    assert dead.headers[h.FAILURE_CLASS] == "invalid"
    assert bytes(dead.headers[h.UNDECODABLE_PROPERTIES]) == encode_properties(**fields)
    assert dead.body == VALID
    assert bus.calls == ["neighbour"], "the poison never reached the bus"


@pytest.mark.parametrize("name", ["big", h.ORIGINAL_EXCHANGE, h.COMMAND])
async def test_a_dead_letter_too_big_for_one_frame_is_trimmed_and_says_what_was_cut(
    connection: AbstractConnection, vhost_url: str, name: str
) -> None:
    big = "x" * 130_850  # the broker takes it; with the failure record it would not fit
    dead, _ = await poison_then_neighbour(
        connection,
        vhost_url,
        lambda: send_json(vhost_url, MALFORMED, message_id="big", headers={name: big}),
    )

    assert dead.headers[h.ERROR_CODE] == "malformed_json"
    assert dead.headers.get(name) != big
    assert f"header {name} (" in dead.headers[h.TRIMMED]


async def test_a_routing_key_that_is_not_utf8_is_settled_without_losing_the_connection(
    connection: AbstractConnection, vhost_url: str
) -> None:
    """The broker routes it by its ``CC`` header; aiormq could not read its deliver frame."""
    dead, bus = await poison_then_neighbour(
        connection,
        vhost_url,
        lambda: send_json(
            vhost_url, VALID, b"\xff\xfe", message_id="bad-key", headers={"CC": ["Deposit"]}
        ),
    )

    assert dead.headers[h.ERROR_CODE] == "unknown_command"
    assert dead.headers[h.ORIGINAL_ROUTING_KEY] == "\ufffd\ufffd"
    assert bus.calls == ["neighbour"]


async def test_a_cc_header_does_not_send_the_dead_letter_back_to_the_command_queue(
    connection: AbstractConnection, vhost_url: str
) -> None:
    """On any exchange RabbitMQ also routes to the queues ``CC`` names: a copy keeping it
    would land in the command queue again, be dead-lettered again, and so on."""
    dead, bus = await poison_then_neighbour(
        connection,
        vhost_url,
        lambda: send_json(vhost_url, MALFORMED, message_id="cc", headers={"CC": [QUEUE]}),
    )
    await asyncio.sleep(0.5)

    assert dead.headers[h.ERROR_CODE] == "malformed_json"
    assert "CC" not in dead.headers
    assert dead.headers["original-cc"] == [QUEUE]
    channel = await connection.channel()
    for name in (QUEUE, f"{QUEUE}.dlq"):
        queue = await channel.declare_queue(name, passive=True)
        assert queue.declaration_result.message_count == 0, f"one letter only, none in {name}"
    assert bus.calls == ["neighbour"]


async def test_a_retry_copy_too_big_for_one_frame_is_trimmed_and_the_ladder_goes_on(
    connection: AbstractConnection, vhost_url: str
) -> None:
    bus = ScriptedBus(lambda mid, _: RuntimeError("boom") if mid == "big" else None)
    consumer = await consuming(connection, bus, retry_delays="0.3")
    await asyncio.to_thread(
        send_json,
        vhost_url,
        VALID,
        message_id="big",
        headers={"big": "y" * 130_850},
    )
    [dead] = await dead_letters(await connection.channel(), 1)
    await consumer.stop(0)

    assert not connection.is_closed
    assert bus.calls.count("big") == 4, "two attempts, a delayed round, two attempts"
    assert dead.headers[h.ERROR_CODE] == "handler_failed"
    assert "header big" in dead.headers[h.TRIMMED]


async def test_a_byte_array_message_id_header_is_the_id_and_other_types_are_refused(
    connection: AbstractConnection, vhost_url: str
) -> None:
    bus = ScriptedBus(lambda mid, _: None)
    consumer = await consuming(connection, bus)

    def send(header: Field, prop: str) -> None:
        send_raw(
            vhost_url, VALID, content_type=JSON, headers={"message-id": header}, message_id=prop
        )

    await asyncio.to_thread(send, Field("x", b"bytes-id"), "random-1")
    await asyncio.to_thread(send, Field("x", b"bytes-id"), "random-2")
    await asyncio.to_thread(send, Field("I", 42), "random-3")
    await asyncio.to_thread(send, Field("x", b"\xff"), "random-4")
    dead = await dead_letters(await connection.channel(), 2)
    await consumer.stop(0)

    assert bus.calls == ["bytes-id", "bytes-id"], "the header is the id (the inbox dedupes)"
    assert [d.headers[h.ERROR_CODE] for d in dead] == ["invalid_message_id"] * 2
    assert "int, not a string" in dead[0].headers[h.ERROR_MESSAGE]
    assert "not UTF-8" in dead[1].headers[h.ERROR_MESSAGE]


@pytest.mark.parametrize(
    ("message_id", "correlation_id", "code"),
    [
        ("a\x00b", None, "invalid_message_id"),
        ("   ", None, "invalid_message_id"),
        ("ok", "c\x00d", "invalid_correlation_id"),
        ("é" * 128, None, "invalid_message_id"),  # 128 characters, 256 bytes
    ],
    ids=["NUL in the message id", "a blank message id", "NUL in the correlation id", "256 bytes"],
)
async def test_an_id_the_database_cannot_store_is_refused_at_once(
    connection: AbstractConnection,
    vhost_url: str,
    message_id: str,
    correlation_id: str | None,
    code: str,
) -> None:
    props: dict[str, Any] = {"message_id": message_id, "content_type": "application/json"}
    if len(message_id.encode()) > 255:  # too long for the property: a header can carry it
        props.update(message_id="random", headers={"message-id": message_id})
    if correlation_id:
        props["correlation_id"] = correlation_id
    dead, bus = await poison_then_neighbour(
        connection,
        vhost_url,
        lambda: send_json(vhost_url, VALID, **props),
    )

    assert dead.headers[h.ERROR_CODE] == code
    assert dead.headers[h.ATTEMPTS] == 0, "no handler attempt, no retry"
    assert bus.calls == ["neighbour"]


#: One header of every AMQP field type, as written on the wire and as read back.
FIELD_TYPES: dict[str, tuple[Field, Any]] = {
    "t": (Field("t", True), True),
    "b": (Field("b", -5), -5),
    "B": (Field("B", 200), 200),
    "s": (Field("s", -1000), -1000),
    "u": (Field("u", 60000), 60000),
    "I": (Field("I", -70000), -70000),
    "i": (Field("i", 4_000_000_000), 4_000_000_000),
    "l": (Field("l", -(2**63)), -(2**63)),
    "f": (Field("f", 1.5), 1.5),
    "d": (Field("d", 1e300), 1e300),
    "d-precise": (Field("d", 0.1), 0.1),
    "D": (Field("D", Decimal("-12.345")), Decimal("-12.345")),
    "S": (Field("S", "héllo"), "héllo"),
    "S-latin-1": (Field("S", b"caf\xe9"), b"caf\xe9"),
    "x": (Field("x", b"\x00\x01"), bytearray(b"\x00\x01")),
    "A": (Field("A", [2.5]), [2.5]),
    "T": (Field("T", 1_600_000_000), datetime.fromtimestamp(1_600_000_000, UTC)),
    "T-milliseconds": (
        Field("T", 1_700_000_000_123),
        datetime.fromtimestamp(1_700_000_000.123, UTC),
    ),
    "F": (Field("F", {"k": None}), {"k": None}),
    "V": (Field("V", None), None),
    "k" * 200: (Field("S", "a long name"), "a long name"),
}


async def test_every_header_value_received_is_written_back_unchanged(
    connection: AbstractConnection, vhost_url: str
) -> None:
    headers = {name: sent for name, (sent, _) in FIELD_TYPES.items()}
    fields = {"content_type": JSON, "headers": headers, "message_id": "types"}
    dead, _ = await poison_then_neighbour(
        connection, vhost_url, lambda: send_raw(vhost_url, MALFORMED, **fields)
    )

    assert dead.headers[h.ERROR_CODE] == "malformed_json"
    assert {name: dead.headers[name] for name in FIELD_TYPES} == {
        name: read for name, (_, read) in FIELD_TYPES.items()
    }


async def test_forged_retry_headers_neither_skip_nor_prolong_the_ladder(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda mid, _: RuntimeError("boom"))
    consumer = await consuming(connection, bus, retry_delays="0.3")
    forged_death = [{"queue": f"{QUEUE}.retry.300ms", "reason": "expired", "count": 1}]
    channel = await connection.channel()
    await publish(
        channel,
        "skipper",
        **{"x-death": forged_death, h.ATTEMPTS: 999, h.RETRY_ROUND: 1, h.RETRY_SEAL: "0" * 64},
    )
    await publish(channel, "prolonger", **{h.ATTEMPTS: -100, h.RETRY_ROUND: -5})

    dead = await dead_letters(channel, 2)
    await consumer.stop(0)

    for message_id in ("skipper", "prolonger"):
        assert bus.calls.count(message_id) == 4, "two attempts, a delayed round, two attempts"
    assert [d.headers[h.ATTEMPTS] for d in dead] == [4, 4]
    assert all(h.RETRY_SEAL not in d.headers for d in dead)


@pytest.mark.parametrize("reply_to", [f"{QUEUE}.dlq", QUEUE, f"{QUEUE}.retry.300ms"])
async def test_no_reply_goes_to_one_of_the_workers_own_queues(
    connection: AbstractConnection, vhost_url: str, reply_to: str
) -> None:
    bus = ScriptedBus(lambda mid, _: None)
    consumer = await consuming(connection, bus)
    await asyncio.to_thread(
        send_json,
        vhost_url,
        VALID,
        message_id="asks-for-a-reply",
        reply_to=reply_to,
    )
    await until(lambda: "asks-for-a-reply" in bus.calls)
    await asyncio.sleep(0.5)
    await consumer.stop(0)

    channel = await connection.channel()
    for name in (QUEUE, f"{QUEUE}.dlq", f"{QUEUE}.retry.300ms"):
        queue = await channel.declare_queue(name, passive=True)
        assert queue.declaration_result.message_count == 0, name
    assert bus.calls == ["asks-for-a-reply"]


async def test_a_dead_letter_keeps_every_property_of_the_original(
    connection: AbstractConnection, vhost_url: str
) -> None:
    sent = {
        "message_id": "faithful",
        "correlation_id": "corr-1",
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "reply_to": "somebody.replies",
        "type": "Deposit",
        "timestamp": 1_700_000_000,
        "priority": 7,
        "app_id": "billing",
        "user_id": "guest",
        "expiration": "600000",
    }
    dead, _ = await poison_then_neighbour(
        connection,
        vhost_url,
        lambda: send_json(vhost_url, MALFORMED, **sent),
    )

    assert dead.message_id == "faithful"
    assert dead.correlation_id == "corr-1"
    assert dead.content_encoding == "utf-8"
    assert dead.reply_to == "somebody.replies"
    assert dead.type == "Deposit"
    assert dead.timestamp == datetime.fromtimestamp(1_700_000_000, UTC)
    assert dead.priority == 7
    assert dead.app_id == "billing"
    assert dead.user_id == "guest"
    assert dead.expiration is None, "a dead letter must not expire"
    assert dead.headers[h.ORIGINAL_EXPIRATION] == "600000"
