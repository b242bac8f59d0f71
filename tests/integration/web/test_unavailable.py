"""A broker that is down or has no topology yet is a 503 the client can retry, never a 500;
the key of a command that reached no queue is forgotten, so that the retry starts clean."""

from __future__ import annotations

import asyncio
import subprocess
import uuid

import pytest

from tests.integration.web.conftest import bearer, client_of, sending
from tests.integration.web.fake_worker import FakeWorker
from tests.services import private_vhost
from tests.wiring import CONTEXTS
from worker.config import Settings
from worker.messaging.topology import COMMANDS_EXCHANGE

pytestmark = pytest.mark.integration
DEPOSIT = {"account_id": "alice", "amount": "5.00", "currency": "EUR"}
#: Nothing listens there.
DOWN = "amqp://guest:s3cret-pass@127.0.0.1:9/"


async def test_a_broker_without_the_workers_topology_is_503_until_it_has_it(
    settings: Settings, write_token: str, fake_worker: FakeWorker
) -> None:
    key = "before-the-worker-started"
    await fake_worker.channel.exchange_delete(COMMANDS_EXCHANGE)  # as if no worker ever started
    async for api in client_of(settings):
        refused = await api.post(
            "/commands/Deposit", json=DEPOSIT, headers=sending(write_token, key)
        )
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "unroutable"
        assert "topology" in refused.json()["detail"]
        assert refused.headers["retry-after"]
        assert refused.headers["location"] == f"/commands/{key}"
        shown = await api.get(f"/commands/{key}", headers=bearer(write_token))
        assert shown.status_code == 404  # no phantom key pending forever
        async with FakeWorker(settings.amqp_url, CONTEXTS.commands) as started:
            # The same app: its channel was closed by the refusal and is opened again.
            retried = await api.post(
                "/commands/Deposit", json=DEPOSIT, headers=sending(write_token, key)
            )
            assert retried.status_code == 202, retried.text
            assert (await started.take("Deposit")).message_id == key


async def test_a_broker_that_is_down_is_503_without_its_password(
    settings: Settings, write_token: str
) -> None:
    down = settings.model_copy(update={"amqp_url": DOWN})
    async for api in client_of(down):
        refused = await api.post(
            "/commands/Deposit", json=DEPOSIT, headers=sending(write_token, "d-1")
        )
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "broker_unavailable"
        assert "s3cret-pass" not in refused.text
        assert (await api.get("/health/live")).status_code == 200
        ready = await api.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {
            "broker": "unreachable",
            "database": "ok",
            "temporal": "unreachable",
        }
        assert "s3cret-pass" not in ready.text


async def test_a_connection_the_broker_dropped_is_made_again_by_the_next_request(
    settings: Settings, write_token: str
) -> None:
    vhost = f"web-dropped-{uuid.uuid4().hex[:8]}"
    with private_vhost(vhost) as url:
        async with FakeWorker(url, CONTEXTS.commands):
            pass  # the topology declared, as a worker would
        async for api in client_of(settings.model_copy(update={"amqp_url": url})):
            headers = sending(write_token, "before-the-drop")
            assert (
                await api.post("/commands/Deposit", json=DEPOSIT, headers=headers)
            ).status_code == 202
            dropped = subprocess.run(
                ["rabbitmqctl", "-q", "close_all_connections", "-p", vhost, "a test drops it"],
                capture_output=True,
            )
            assert dropped.returncode == 0, dropped.stderr
            await asyncio.sleep(0.5)
            headers = sending(write_token, "after-the-drop")
            again = await api.post("/commands/Deposit", json=DEPOSIT, headers=headers)
            assert again.status_code == 202, again.text
            assert (await api.get("/health/ready")).json()["checks"]["broker"] == "ok"
