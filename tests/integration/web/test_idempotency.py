"""A key has one meaning and one effect; a retry gets the first request's state; waiting ends
with the outcome whether the reply comes back here or only reaches the database.

On PostgreSQL and SQLite, the two storages the worker supports.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.integration.web.conftest import bearer, sending
from tests.integration.web.fake_worker import FakeWorker, accepted
from worker.bus.outcomes import Outcome
from worker.persistence.web import HttpCommandRow
from worker.web.api.commands import REPUBLISH_AFTER

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def backend_url(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path_factory.mktemp('web-sqlite') / 'web.sqlite3'}"
    return database_url


def deposit(amount: str = "5.00") -> dict[str, str]:
    return {"account_id": "alice", "amount": amount, "currency": "EUR"}


def new_key() -> str:
    return f"key-{uuid.uuid4().hex[:10]}"


async def test_a_command_is_published_once_confirmed_and_answered_202_pending(
    api: httpx.AsyncClient, write_token: str, fake_worker: FakeWorker
) -> None:
    key = new_key()
    sent = await api.post("/commands/Deposit", json=deposit(), headers=sending(write_token, key))
    assert sent.status_code == 202, sent.text
    assert sent.json() == {
        "status": "pending",
        "message_id": key,
        "error": None,
        "duplicate": False,
    }
    assert sent.headers["location"] == f"/commands/{key}"
    message = await fake_worker.take("Deposit")
    assert (message.message_id, message.correlation_id) == (key, key)
    assert message.routing_key == "Deposit"
    assert (message.content_type, message.delivery_mode) == ("application/json", 2)
    assert json.loads(message.body) == {"currency": "EUR", "amount": "5.00", "account_id": "alice"}
    shown = await api.get(f"/commands/{key}", headers=bearer(write_token))
    assert shown.json()["status"] == "pending"


async def test_the_same_key_and_body_soon_after_gets_the_first_state_and_no_second_copy(
    api: httpx.AsyncClient, write_token: str, fake_worker: FakeWorker
) -> None:
    key = new_key()
    headers = sending(write_token, key)
    first = await api.post("/commands/Deposit", json=deposit(), headers=headers)
    reordered = b'{ "currency":"EUR",  "account_id":"alice","amount":"5.00"}'
    again = await api.post("/commands/Deposit", content=reordered, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["status"] == "pending"
    assert (await fake_worker.take("Deposit")).message_id == key
    assert await fake_worker.waiting("Deposit") == 0


async def test_a_retry_of_a_key_pending_for_seconds_publishes_it_again(
    api: httpx.AsyncClient, write_token: str, fake_worker: FakeWorker
) -> None:
    """As if the first request had died between storing the key and publishing."""
    key = new_key()
    headers = sending(write_token, key)
    assert (await api.post("/commands/Deposit", json=deposit(), headers=headers)).status_code == 202
    await fake_worker.take("Deposit")
    earlier = datetime.now(UTC) - timedelta(seconds=REPUBLISH_AFTER + 1)
    await HttpCommandRow.filter(idempotency_key=key).update(created_at=earlier)
    again = await api.post("/commands/Deposit", json=deposit(), headers=headers)
    assert again.status_code == 202
    assert (await fake_worker.take("Deposit")).message_id == key


async def test_a_key_that_is_already_the_id_of_a_processed_message_is_a_conflict(
    api: httpx.AsyncClient, write_token: str, read_token: str, fake_worker: FakeWorker
) -> None:
    """``worker send OpenAccount --message-id K``, then ``POST /commands/Deposit`` with K."""
    key = new_key()
    await fake_worker.record(key, "OpenAccount", accepted(key))
    sent = await api.post("/commands/Deposit", json=deposit(), headers=sending(write_token, key))
    assert sent.status_code == 422, sent.text
    assert sent.json()["code"] == "idempotency_key_conflict"
    assert not await HttpCommandRow.exists(idempotency_key=key)
    assert await fake_worker.waiting("Deposit") == 0
    shown = await api.get(f"/commands/{key}", headers=bearer(read_token))
    assert shown.json() == accepted(key).to_json()  # the other command's, as the inbox has it


async def test_a_key_whose_id_another_command_took_meanwhile_is_never_its_outcome(
    api: httpx.AsyncClient, write_token: str, read_token: str, fake_worker: FakeWorker
) -> None:
    """The AMQP message with the same id got to the worker first: the inbox holds its
    outcome, which must not answer for the Deposit."""
    key = new_key()
    await api.post("/commands/Deposit", json=deposit(), headers=sending(write_token, key))
    await fake_worker.take("Deposit")
    await fake_worker.record(key, "OpenAccount", accepted(key))
    retried = await api.post("/commands/Deposit", json=deposit(), headers=sending(write_token, key))
    assert retried.status_code == 422, retried.text
    assert retried.json()["code"] == "idempotency_key_conflict"
    shown = await api.get(f"/commands/{key}", headers=bearer(read_token))
    assert (shown.json()["status"], shown.json()["error"]["code"]) == (
        "invalid",
        "idempotency_key_conflict",
    )


async def test_a_key_used_for_another_body_or_command_is_a_conflict(
    api: httpx.AsyncClient, write_token: str, fake_worker: FakeWorker
) -> None:
    key = new_key()
    headers = sending(write_token, key)
    assert (await api.post("/commands/Deposit", json=deposit(), headers=headers)).status_code == 202
    for name, body in (("Deposit", deposit("6.00")), ("Withdraw", deposit())):
        conflict = await api.post(f"/commands/{name}", json=body, headers=headers)
        assert conflict.status_code == 422, conflict.text
        assert conflict.json()["code"] == "idempotency_key_conflict"
    await fake_worker.take("Deposit")
    assert await fake_worker.waiting("Withdraw") == 0


async def test_a_retry_after_the_outcome_is_answered_from_it_and_publishes_nothing(
    api: httpx.AsyncClient, write_token: str, fake_worker: FakeWorker
) -> None:
    accepted_key, rejected_key = new_key(), new_key()
    for key in (accepted_key, rejected_key):
        await api.post("/commands/Withdraw", json=deposit(), headers=sending(write_token, key))
        await fake_worker.take("Withdraw")
    await fake_worker.record(accepted_key, "Withdraw", accepted(accepted_key))
    refusal = Outcome.rejected(rejected_key, "insufficient_funds", "alice holds 0.00 EUR")
    await fake_worker.record(rejected_key, "Withdraw", refusal)

    retried = await api.post(
        "/commands/Withdraw", json=deposit(), headers=sending(write_token, accepted_key)
    )
    assert retried.status_code == 200
    assert retried.json() == {**accepted(accepted_key).to_json(), "duplicate": True}
    refused = await api.post(
        "/commands/Withdraw", json=deposit(), headers=sending(write_token, rejected_key)
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "insufficient_funds"
    assert refused.json()["outcome"]["status"] == "rejected"
    assert await fake_worker.waiting("Withdraw") == 0


async def test_prefer_wait_answers_with_the_reply_to_this_process(
    api: httpx.AsyncClient, write_token: str, fake_worker: FakeWorker
) -> None:
    async def answer(reply: Outcome) -> None:
        message = await fake_worker.take("Deposit")
        await fake_worker.reply(message, reply)

    for key, reply, status in (
        (k := new_key(), accepted(k), 200),
        (k := new_key(), Outcome.rejected(k, "account_frozen", "alice is frozen"), 409),
        (k := new_key(), Outcome.invalid(k, "reserved_command", "policy only"), 422),
    ):
        sent, _ = await asyncio.gather(
            api.post("/commands/Deposit", json=deposit(), headers=sending(write_token, key, 99)),
            answer(reply),
        )
        assert sent.status_code == status, sent.text
        assert sent.headers["preference-applied"] == "wait=30"
    # The worker's inbox never keeps an invalid outcome: the key's row does.
    shown = await api.get(f"/commands/{key}", headers=bearer(write_token))
    assert shown.json() == Outcome.invalid(key, "reserved_command", "policy only").to_json()


async def test_prefer_wait_finds_an_outcome_whose_reply_went_elsewhere(
    api: httpx.AsyncClient, write_token: str, fake_worker: FakeWorker
) -> None:
    key = new_key()

    async def commit_without_replying() -> None:
        await fake_worker.take("Deposit")
        await asyncio.sleep(0.3)
        await fake_worker.record(key, "Deposit", accepted(key))

    sent, _ = await asyncio.gather(
        api.post("/commands/Deposit", json=deposit(), headers=sending(write_token, key, 5)),
        commit_without_replying(),
    )
    assert (sent.status_code, sent.json()["status"]) == (200, "accepted")


async def test_prefer_wait_without_an_outcome_in_time_is_still_202(
    api: httpx.AsyncClient, write_token: str, fake_worker: FakeWorker
) -> None:
    key = new_key()
    sent = await api.post("/commands/Deposit", json=deposit(), headers=sending(write_token, key, 1))
    assert (sent.status_code, sent.headers["preference-applied"]) == (202, "wait=1")
    assert sent.json()["status"] == "pending"


async def test_get_command_tells_an_id_never_seen_from_one_sent_over_amqp(
    api: httpx.AsyncClient, read_token: str
) -> None:
    unseen = await api.get(f"/commands/{new_key()}", headers=bearer(read_token))
    assert (unseen.status_code, unseen.json()["code"]) == (404, "not_found")
    over_amqp = new_key()
    await FakeWorker.record(over_amqp, "Deposit", accepted(over_amqp))
    shown = await api.get(f"/commands/{over_amqp}", headers=bearer(read_token))
    assert shown.json() == accepted(over_amqp).to_json()
