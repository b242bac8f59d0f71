"""Reading a delivery once: ids, counts and reply destinations, whatever the client sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.wiring import COMMANDS as REGISTRY
from worker.messaging import headers as h
from worker.messaging.delivery import read_delivery
from worker.messaging.retry_seal import RetrySeal
from worker.messaging.topology import OwnQueues
from worker.messaging.wire import UNDECODABLE, Undecodable

is_own_queue = OwnQueues(REGISTRY.queues)

SEAL = RetrySeal(b"key")
QUEUE = "accounts.commands"


@dataclass
class Incoming:
    """The fields of an aio-pika incoming message that the reader looks at."""

    headers: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = "prop-id"
    correlation_id: str | None = None
    routing_key: str | None = "Deposit"
    type: str | None = None
    reply_to: str | None = None
    body: bytes = b"{}"


def read(**fields: Any) -> Any:
    return read_delivery(
        Incoming(**fields),  # type: ignore[arg-type]
        QUEUE,
        SEAL,
        is_own_queue,
        REGISTRY.public,
        REGISTRY.reserved_ids,
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("h-id", "h-id"), (b"h-id", "h-id"), (bytearray(b"h-id"), "h-id")],
    ids=["string", "bytes", "byte array"],
)
def test_a_message_id_header_wins_over_the_property_whatever_its_byte_type(
    header: object, expected: str
) -> None:
    assert read(headers={"message-id": header}).message_id == expected


@pytest.mark.parametrize(
    ("headers", "prop", "code"),
    [
        ({"message-id": 42}, "prop-id", "invalid_message_id"),
        ({"message-id": b"\xff"}, "prop-id", "invalid_message_id"),
        ({"message-id": ""}, "prop-id", "invalid_message_id"),
        ({}, None, "missing_message_id"),
        ({}, "a\x00b", "invalid_message_id"),
        ({}, " \t ", "invalid_message_id"),
        ({}, "transfer-t1/withdraw/1", "reserved_message_id"),
    ],
)
def test_a_message_id_that_cannot_be_used_is_refused_with_its_reason(
    headers: dict[str, Any], prop: str | None, code: str
) -> None:
    delivery = read(headers=headers, message_id=prop)
    assert delivery.message_id is None
    assert delivery.id_problem is not None
    assert delivery.id_problem.code == code


def test_a_correlation_id_with_nul_is_a_problem_and_never_used() -> None:
    delivery = read(correlation_id="c\x00")
    assert delivery.correlation_id is None
    assert delivery.correlation_problem is not None
    assert delivery.correlation_problem.code == "invalid_correlation_id"


def test_retry_counts_count_only_under_the_workers_seal() -> None:
    sealed = SEAL.headers(QUEUE, "prop-id", 7, 2, b"{}")
    assert (read(headers=sealed).attempts, read(headers=sealed).retry_round) == (7, 2)
    forged = {**sealed, h.ATTEMPTS: 999}
    assert (read(headers=forged).attempts, read(headers=forged).retry_round) == (0, 0)
    other_body = read(headers=sealed, body=b'{"x": 1}')
    assert other_body.attempts == 0
    unsealed = {h.ATTEMPTS: 3, h.RETRY_ROUND: 1}
    assert read(headers=unsealed).attempts == 0
    for seal in ("é" * 64, "0" * 63, b"\x00" * 64, 7):  # compare_digest raises on non-ASCII
        assert read(headers={**sealed, h.RETRY_SEAL: seal}).attempts == 0


@pytest.mark.parametrize(
    "queue",
    [
        QUEUE,
        f"{QUEUE}.dlq",
        f"{QUEUE}.retry.5s",
        f"{QUEUE}.retry.7s",  # left by an earlier RETRY_DELAYS
        "transfers.commands.dlq",
        "domain-events.unrouted",
    ],
)
def test_a_reply_to_one_of_the_workers_own_queues_is_refused(queue: str) -> None:
    refused = read(reply_to=queue, headers={h.RETRY_REPLY_TO: queue})
    assert (refused.reply_to, refused.operator_queue) == (None, None)
    assert refused.refused_reply_to == queue


def test_a_reply_to_any_other_queue_is_allowed() -> None:
    assert read(reply_to="amq.gen-1").reply_to == "amq.gen-1"
    assert read(reply_to="accounts.commandsX").reply_to == "accounts.commandsX"


def test_the_undecodable_marker_is_taken_out_of_the_headers() -> None:
    found = Undecodable(b"raw", ("message_id: not UTF-8",))
    delivery = read(headers={UNDECODABLE: found, "kept": 1})
    assert delivery.undecodable == found
    assert delivery.headers == {"kept": 1}


@pytest.mark.parametrize(
    ("content_type", "refused"),
    [
        ("application/json", False),
        ("application/json; charset=utf-8", False),
        ('application/json; charset="UTF-8"', False),
        (None, False),
        ("application/json; charset=utf-16", True),
        ("application/json; charset=latin-1", True),
        ("text/plain", True),
    ],
)
def test_a_json_body_may_only_declare_utf8(content_type: str | None, refused: bool) -> None:
    from worker.bus.commands import InvalidCommand
    from worker.messaging.envelope import open_envelope

    delivery = read(body=b'{"account_id": "a1", "amount": "1.00", "currency": "EUR"}')
    object.__setattr__(delivery.message, "content_type", content_type)
    object.__setattr__(delivery.message, "content_encoding", None)
    if refused:
        with pytest.raises(InvalidCommand, match="not supported") as caught:
            open_envelope(delivery, 1000, REGISTRY, SEAL)
        assert caught.value.code == "unsupported_content_type"
    else:
        assert open_envelope(delivery, 1000, REGISTRY, SEAL).context.message_id == "prop-id"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b'{"account_id": "a1", "amount": "1.00", "amount": "900.00", "currency": "EUR"}',
            "more than once",
        ),
        (b'{"account_id": "a1", "amount": NaN, "currency": "EUR"}', "NaN is not JSON"),
        (b'{"account_id": "a1", "amount": Infinity, "currency": "EUR"}', "Infinity is not JSON"),
    ],
    ids=["a duplicate name", "NaN", "Infinity"],
)
def test_a_body_that_readers_could_disagree_on_is_malformed_json(body: bytes, reason: str) -> None:
    from worker.bus.commands import InvalidCommand
    from worker.messaging.envelope import open_envelope

    delivery = read(body=body)
    object.__setattr__(delivery.message, "content_type", "application/json")
    object.__setattr__(delivery.message, "content_encoding", None)
    with pytest.raises(InvalidCommand, match=reason) as caught:
        open_envelope(delivery, 1000, REGISTRY, SEAL)
    assert caught.value.code == "malformed_json"
