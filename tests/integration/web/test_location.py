"""Every answer to ``POST /commands/{name}`` names the key's resource, whoever answers it:
the route, the auth, the body limit, a database error's 503, the last-resort 500; and a
shutdown answers the requests still waiting for an outcome with 202, not a 500."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from tortoise.exceptions import OperationalError

from tests.integration.web.conftest import sending
from tests.integration.web.fake_worker import FakeWorker, accepted
from tests.wiring import CONTEXTS
from worker.bus.outcomes import Outcome
from worker.config import Settings
from worker.web.api.services import Services
from worker.web.app import create_app

pytestmark = pytest.mark.integration
DEPOSIT = {"account_id": "alice", "amount": "5.00", "currency": "EUR"}


class FailingBroker(Services):
    """The real services, but publishing raises ``error``."""

    def __init__(self, settings: Settings, error: Exception) -> None:
        super().__init__(settings, CONTEXTS)
        self.error = error

    async def publish(self, name: str, body: bytes, key: str) -> None:
        raise self.error


async def client(
    settings: Settings, services: Services | None = None, stopping: asyncio.Event | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, CONTEXTS, services=services, stopping=stopping)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://front-door") as api:
            yield api


async def post(api: httpx.AsyncClient, token: str, key: str, wait: int | None = None) -> int:
    """The status of a Deposit under ``key``, which must come back with its Location."""
    sent = await api.post("/commands/Deposit", json=DEPOSIT, headers=sending(token, key, wait))
    assert sent.headers.get("location") == f"/commands/{key}", (sent.status_code, sent.text)
    return sent.status_code


@pytest.mark.parametrize(
    ("error", "status"),
    [(OperationalError("the database went away"), 503), (RuntimeError("a bug"), 500)],
)
async def test_a_503_from_the_database_and_a_500_still_carry_the_location(
    settings: Settings, write_token: str, error: Exception, status: int
) -> None:
    async for api in client(settings, FailingBroker(settings, error)):
        assert await post(api, write_token, f"failing-{status}") == status


async def test_each_outcome_and_each_refusal_carries_the_location(
    api: httpx.AsyncClient, write_token: str, fake_worker: FakeWorker
) -> None:
    assert await post(api, "bwt_no-such-token", "located-1") == 401
    assert await post(api, write_token, "located-2") == 202
    await fake_worker.take("Deposit")
    for key, outcome, status in (
        ("located-3", accepted("located-3"), 200),
        ("located-4", Outcome.rejected("located-4", "account_frozen", "frozen"), 409),
        ("located-5", Outcome.invalid("located-5", "invalid_value", "no"), 422),
    ):

        async def answer(outcome: Outcome = outcome) -> None:
            await fake_worker.reply(await fake_worker.take("Deposit"), outcome)

        posted, _ = await asyncio.gather(post(api, write_token, key, wait=9), answer())
        assert posted == status
    unknown = await api.post("/commands/Nope", json={}, headers=sending(write_token, "located-6"))
    assert (unknown.status_code, unknown.headers["location"]) == (404, "/commands/located-6")


async def test_a_shutdown_answers_waiting_requests_202_pending_at_once(
    settings: Settings, write_token: str, fake_worker: FakeWorker
) -> None:
    stopping = asyncio.Event()
    async for api in client(settings, stopping=stopping):
        waiting = asyncio.create_task(post(api, write_token, "at-shutdown", wait=30))
        await fake_worker.take("Deposit")  # published; no reply will come
        started = time.monotonic()
        stopping.set()
        assert await asyncio.wait_for(waiting, 2) == 202
        assert time.monotonic() - started < 1
