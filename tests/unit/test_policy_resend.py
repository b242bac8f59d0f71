"""``dlq resend`` seals a policy's command again only if the worker dead-lettered it
under its seal, and only unedited: a client's forged copy goes back as refused as before."""

from __future__ import annotations

from typing import Any

from aio_pika import Message

from tests.wiring import COMMANDS as REGISTRY
from worker.messaging import headers as h
from worker.messaging.retry_seal import RetrySeal
from worker.ops.dlq.letters import DeadLetter, Properties, read
from worker.ops.dlq.resending import StoreSender

SEAL = RetrySeal(b"the workers' key")
QUEUE = "customers.commands"
POLICY_ID = "policy-award_loyalty_points/ev-1/0"
BODY = b'{"customer_id": "c1", "order_id": "o1", "points": 12}'


class FakeStore:
    """The part of the DLQ store a sender uses: what it would publish."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def send(self, letter: DeadLetter, message: Message) -> None:
        self.sent.append(message)


def letter(**extra: Any) -> DeadLetter:
    headers = {
        h.DLQ_ID: "d1",
        h.FAILURE_CLASS: "bug",
        h.ERROR_CODE: "handler_failed",
        h.ORIGINAL_QUEUE: QUEUE,
        h.COMMAND: "AwardLoyaltyPoints",
        **extra,
    }
    properties = Properties(message_id=POLICY_ID, content_type="application/json")
    return read(f"{QUEUE}.dlq", BODY, headers, properties, REGISTRY.public, REGISTRY.reserved_ids)


async def resent(dead: DeadLetter, bodies: dict[str, bytes] | None = None) -> dict[str, Any]:
    store = FakeStore()
    await StoreSender(store, "reply", bodies or {}, SEAL).send(dead)  # type: ignore[arg-type]
    return dict(store.sent[0].headers or {})


def kept_seal() -> str:
    return str(SEAL.headers(QUEUE, POLICY_ID, 0, 0, BODY)[h.RETRY_SEAL])


async def test_a_policy_command_the_worker_dead_lettered_goes_back_sealed() -> None:
    headers = await resent(letter(**{h.POLICY_SEAL: kept_seal()}))
    assert SEAL.authentic(headers, QUEUE, POLICY_ID, BODY)
    assert h.POLICY_SEAL not in headers


async def test_a_client_s_copy_under_a_policy_id_goes_back_unsealed() -> None:
    assert not SEAL.authentic(await resent(letter()), QUEUE, POLICY_ID, BODY)


async def test_a_forged_kept_seal_seals_nothing() -> None:
    headers = await resent(letter(**{h.POLICY_SEAL: "0" * 64}))
    assert not SEAL.authentic(headers, QUEUE, POLICY_ID, BODY)


async def test_an_edited_policy_command_goes_back_unsealed() -> None:
    edited = b'{"customer_id": "c1", "order_id": "o1", "points": 9999}'
    headers = await resent(letter(**{h.POLICY_SEAL: kept_seal()}), {"d1": edited})
    assert not SEAL.authentic(headers, QUEUE, POLICY_ID, edited)
