"""The failure policy at the consumer, against the real broker and a scripted bus
(see ``consumer_harness``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractConnection

from domain.shared.errors import InvalidValue
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


async def test_a_poison_message_runs_its_retries_then_reaches_the_dlq_with_its_record(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda mid, _: RuntimeError("boom") if mid == "poison" else None)
    consumer = await consuming(connection, bus)
    channel = await connection.channel()
    await publish(channel, "poison")
    for number in range(5):
        await publish(channel, f"good-{number}")

    [dead] = await dead_letters(channel, 1)
    await consumer.stop(0)

    expected_attempts = (1 + 1) * (1 + 2)  # (1 + immediate retries) per round, 2 delayed rounds
    assert bus.calls.count("poison") == expected_attempts
    assert bus.calls.index("good-4") < len(bus.calls) - 1, "the good ones did not wait"
    found = dead.headers
    assert dead.message_id == "poison"
    assert found[h.FAILURE_CLASS] == "bug"
    assert found[h.ERROR_CODE] == "handler_failed"
    assert found[h.EXCEPTION_TYPE] == "RuntimeError"
    assert "RuntimeError: boom" in str(found[h.STACK])
    assert found[h.ORIGINAL_QUEUE] == QUEUE
    assert found[h.ORIGINAL_EXCHANGE] == topology.COMMANDS_EXCHANGE
    assert found[h.ORIGINAL_ROUTING_KEY] == "Deposit"
    assert found[h.ATTEMPTS] == expected_attempts
    assert found[h.COMMAND] == "Deposit"
    assert len(str(found[h.DLQ_ID])) == 12 and found[h.FAILED_AT]


async def test_invalid_input_goes_to_the_dlq_at_once_without_retries(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda mid, _: InvalidValue("amount must be positive"))
    consumer = await consuming(connection, bus)
    channel = await connection.channel()
    await publish(channel, "bad-value")
    await publish(channel, "bad-json", body=b'{"account_id": ')

    dead = {m.message_id: m.headers for m in await dead_letters(channel, 2)}
    await consumer.stop(0)

    assert bus.calls == ["bad-value"]
    assert dead["bad-value"][h.FAILURE_CLASS] == "invalid"
    assert dead["bad-value"][h.ERROR_CODE] == "invalid_value"
    assert dead["bad-value"][h.ATTEMPTS] == 1
    assert h.STACK not in dead["bad-value"]
    assert dead["bad-json"][h.ERROR_CODE] == "malformed_json"
    assert dead["bad-json"][h.EXCEPTION_TYPE] == "worker.bus.commands.InvalidCommand"
    assert dead["bad-json"][h.ATTEMPTS] == 0


async def test_an_outage_is_probed_by_one_message_at_a_time_and_dead_letters_nothing(
    connection: AbstractConnection,
) -> None:
    down = True
    bus = ScriptedBus(lambda mid, _: ConnectionRefusedError("db down") if down else None, 0.01)
    consumer = await consuming(connection, bus, lambda: not down)
    channel = await connection.channel()
    for number in range(20):
        await publish(channel, f"waiting-{number}")

    await until(lambda: len(bus.calls) >= 25)  # the first wave, then probes, all failing
    bus.measuring = True
    await until(lambda: len(bus.calls) >= 40)
    bus.measuring, down = False, False
    await until(lambda: len(set(bus.calls)) == 20 and bus.in_flight == 0)
    await asyncio.sleep(0.5)
    await consumer.stop(0)

    assert bus.peak == 1, "once the breaker opened, only one probe ran at a time"
    dlq = await channel.get_queue(topology.dead_letter_queue(QUEUE), ensure=False)
    assert await dlq.get(fail=False) is None


async def test_a_delayed_retry_survives_a_consumer_restart_and_the_operator_hears_of_it(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda mid, attempt: RuntimeError("not yet") if attempt <= 2 else None)
    channel = await connection.channel()
    operator = await channel.declare_queue(exclusive=True)
    first = await consuming(connection, bus)
    await publish(channel, "comes-back", **{h.RETRY_REPLY_TO: operator.name})

    notice = await operator_notice(operator)
    await first.stop(0)
    second = await consuming(connection, bus)
    outcome = await operator_notice(operator)
    await second.stop(0)

    assert notice["status"] == "retrying"
    assert notice["error"]["code"] == "handler_failed"
    assert outcome == {
        "status": "accepted",
        "message_id": "comes-back",
        "error": None,
        "duplicate": False,
    }
    assert bus.calls == ["comes-back"] * 3


async def operator_notice(queue: aio_pika.abc.AbstractQueue) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while (message := await queue.get(fail=False, no_ack=True)) is None:
            await asyncio.sleep(0.05)
    result: dict[str, Any] = json.loads(message.body)
    return result


async def test_a_header_that_is_not_utf8_still_reaches_the_dlq_with_its_reason(
    connection: AbstractConnection, vhost_url: str
) -> None:
    bus = ScriptedBus(lambda mid, _: None)
    consumer = await consuming(connection, bus)
    await asyncio.to_thread(
        publish_with_pika, vhost_url, "latin-1", {"note": "café".encode("latin-1")}
    )

    [dead] = await dead_letters(await connection.channel(), 1)
    await consumer.stop(0)

    assert dead.message_id == "latin-1"
    assert dead.headers[h.ERROR_CODE] == "malformed_json"
    assert bytes(dead.headers["note"]) == "café".encode("latin-1")


def publish_with_pika(url: str, message_id: str, headers: dict[str, Any]) -> None:
    """pika sends ``bytes`` as a long string, which aio-pika reads back as ``bytes``."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        connection.channel().basic_publish(
            topology.COMMANDS_EXCHANGE,
            "Deposit",
            b'{"account_id": ',
            pika.BasicProperties(
                message_id=message_id, content_type="application/json", headers=headers
            ),
        )
    finally:
        connection.close()


async def test_a_client_cannot_skip_the_retries_by_setting_the_workers_headers(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda mid, _: RuntimeError("boom"))
    consumer = await consuming(connection, bus, retry_delays="0.3")
    channel = await connection.channel()
    await publish(channel, "spoofed", **{h.RETRY_ROUND: 5, h.ATTEMPTS: 99})

    [dead] = await dead_letters(channel, 1)
    await consumer.stop(0)

    assert bus.calls.count("spoofed") == 4, "two attempts, a delayed round, two attempts"
    assert dead.headers[h.ATTEMPTS] == 4


async def test_a_message_timing_out_on_its_own_is_not_probed_forever(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda mid, _: TimeoutError("this one always times out"))
    consumer = await consuming(connection, bus, breaker_threshold=2)
    channel = await connection.channel()
    await publish(channel, "slowpoke")

    [dead] = await dead_letters(channel, 1)
    await consumer.stop(0)

    assert dead.headers[h.FAILURE_CLASS] == "transient"
    assert dead.headers[h.ERROR_CODE] == "dependency_unavailable"
    assert bus.calls.count("slowpoke") == 6
