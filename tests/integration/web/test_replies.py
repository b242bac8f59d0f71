"""The worker's replies go to one durable queue every front-door process shares: an
``invalid`` outcome (which only the reply tells) is kept whether or not anyone waits, even
when no front door runs at the time, and a retry is answered from it without a new copy."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.integration.web.conftest import bearer, client_of, sending
from tests.integration.web.fake_worker import FakeWorker
from worker.bus.outcomes import Outcome
from worker.config import Settings

pytestmark = pytest.mark.integration
DEPOSIT = {"account_id": "alice", "amount": "5.00", "currency": "EUR"}


def invalid(key: str) -> Outcome:
    return Outcome.invalid(key, "invalid_value", "the guest and the house are one account")


async def until_shown(api: httpx.AsyncClient, token: str, key: str, status: str) -> None:
    deadline = time.monotonic() + 5
    while (await api.get(f"/commands/{key}", headers=bearer(token))).json()["status"] != status:
        assert time.monotonic() < deadline, f"{key} never {status}"
        await asyncio.sleep(0.05)


@pytest.fixture
async def front_door(settings: Settings, worker: FakeWorker) -> AsyncIterator[httpx.AsyncClient]:
    """A front door of this test's own (this module starts and stops them itself)."""
    async for client in client_of(settings):
        yield client


async def test_an_invalid_reply_nobody_waits_for_is_kept_and_answers_the_retry(
    front_door: httpx.AsyncClient, write_token: str, fake_worker: FakeWorker
) -> None:
    key = f"invalid-{uuid.uuid4().hex[:8]}"
    headers = sending(write_token, key)
    assert (await front_door.post("/commands/Deposit", json=DEPOSIT, headers=headers)).is_success
    await fake_worker.reply(await fake_worker.take("Deposit"), invalid(key))
    await until_shown(front_door, write_token, key, "invalid")
    retried = await front_door.post("/commands/Deposit", json=DEPOSIT, headers=headers)
    assert (retried.status_code, retried.json()["code"]) == (422, "invalid_value")
    assert retried.json()["outcome"]["duplicate"] is True
    assert await fake_worker.waiting("Deposit") == 0  # no second copy, no second dead letter


async def test_a_reply_sent_while_no_front_door_runs_is_kept_by_the_next_one(
    settings: Settings, write_token: str, fake_worker: FakeWorker
) -> None:
    key = f"restart-{uuid.uuid4().hex[:8]}"
    async for gone in client_of(settings):
        sent = await gone.post("/commands/Deposit", json=DEPOSIT, headers=sending(write_token, key))
        assert sent.status_code == 202
    await fake_worker.reply(await fake_worker.take("Deposit"), invalid(key))
    async for next_one in client_of(settings):
        await until_shown(next_one, write_token, key, "invalid")


async def test_a_wait_ends_with_the_outcome_whichever_front_door_heard_the_reply(
    settings: Settings, write_token: str, fake_worker: FakeWorker
) -> None:
    async for one in client_of(settings):
        async for other in client_of(settings):
            for _ in range(2):  # the broker hands the replies out in turn
                key = f"shared-{uuid.uuid4().hex[:8]}"

                async def answer(key: str = key) -> None:
                    await fake_worker.reply(await fake_worker.take("Deposit"), invalid(key))

                started = time.monotonic()
                sent, _ = await asyncio.gather(
                    one.post(
                        "/commands/Deposit", json=DEPOSIT, headers=sending(write_token, key, 9)
                    ),
                    answer(),
                )
                assert (sent.status_code, sent.json()["code"]) == (422, "invalid_value")
                assert time.monotonic() - started < 3
            assert (await other.get("/health/live")).status_code == 200
