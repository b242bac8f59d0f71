"""Only a policy issues its commands: a ``policy-`` id needs the worker's seal, and a
command declared ``issued_by`` a policy needs that policy's ids."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.wiring import COMMANDS as REGISTRY
from worker.bus.commands import InvalidCommand
from worker.bus.message_ids import IdProblem
from worker.messaging.delivery import read_delivery
from worker.messaging.envelope import open_envelope
from worker.messaging.retry_seal import RetrySeal
from worker.messaging.topology import OwnQueues

SEAL = RetrySeal(b"the workers' key")
QUEUE = "customers.commands"
POLICY_ID = "policy-award_loyalty_points/ev-1/0"
BODY = json.dumps({"customer_id": "c1", "order_id": "o1", "points": 12}).encode()


@dataclass
class Incoming:
    """The fields of an aio-pika incoming message that the reader and envelope look at."""

    message_id: str
    headers: dict[str, Any] = field(default_factory=dict)
    body: bytes = BODY
    routing_key: str = "AwardLoyaltyPoints"
    correlation_id: str | None = None
    type: str | None = None
    reply_to: str | None = None
    content_type: str | None = "application/json"
    content_encoding: str | None = None


def opened(message_id: str, headers: dict[str, Any] | None = None) -> str:
    incoming = Incoming(message_id, headers or {})
    delivery = read_delivery(
        incoming,  # type: ignore[arg-type]
        QUEUE,
        SEAL,
        OwnQueues(REGISTRY.queues),
        REGISTRY.public,
        REGISTRY.reserved_ids,
    )
    return open_envelope(delivery, 10_000, REGISTRY, SEAL).context.message_id


def refusal(message_id: str, headers: dict[str, Any] | None = None) -> str:
    with pytest.raises(InvalidCommand) as refused:
        opened(message_id, headers)
    return refused.value.code


def test_the_policy_s_own_sealed_command_is_taken() -> None:
    assert opened(POLICY_ID, SEAL.headers(QUEUE, POLICY_ID, 0, 0, BODY)) == POLICY_ID


def test_the_same_command_from_a_client_with_an_ordinary_id_is_refused() -> None:
    assert refusal("client-7") == "reserved_command"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        SEAL.headers("accounts.commands", POLICY_ID, 0, 0, BODY),
        SEAL.headers(QUEUE, POLICY_ID, 0, 0, b"{}"),
        RetrySeal(b"another key").headers(QUEUE, POLICY_ID, 0, 0, BODY),
        {"attempts": 0, "retry-round": 0, "retry-seal": "0" * 64},
    ],
    ids=["no seal", "another queue's", "another body's", "another key's", "forged"],
)
def test_a_policy_id_without_the_worker_s_seal_over_it_is_refused(headers: dict[str, Any]) -> None:
    assert refusal(POLICY_ID, headers) == "reserved_message_id"


def test_another_policy_s_sealed_id_cannot_issue_it() -> None:
    other = "policy-someone_else/ev-1/0"
    assert refusal(other, SEAL.headers(QUEUE, other, 0, 0, BODY)) == "reserved_command"


def test_no_client_may_choose_a_policy_id_in_the_cli() -> None:
    with pytest.raises(IdProblem) as refused:
        REGISTRY.check_message_id(POLICY_ID)
    assert refused.value.code == "reserved_message_id"
