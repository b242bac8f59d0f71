"""The front door's app in this process (httpx over ASGI, its lifespan run) on the real
PostgreSQL (or SQLite) and a vhost of the package's own with the worker's topology, but no
worker: :class:`FakeWorker` takes the published commands and answers as it is told."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from tests.integration.web.fake_worker import FakeWorker
from tests.services import private_vhost
from tests.wiring import CONTEXTS
from worker.config import Settings
from worker.persistence import database
from worker.web.app import create_app
from worker.web.tokens import create_token, revoke_token

#: Nothing listens there: a Temporal these tests never reach.
NO_TEMPORAL = "127.0.0.1:9"


@pytest.fixture(scope="module", params=["postgres"])
def backend_url(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """PostgreSQL; a module that overrides ``params`` runs on SQLite too."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("web-sqlite") / "web.sqlite3"
        return f"sqlite://{path}"
    return database_url


@pytest.fixture(scope="package")
def web_vhost() -> Iterator[str]:
    """One vhost for the package (each ``rabbitmqctl`` call costs a second)."""
    with private_vhost(f"web-{uuid.uuid4().hex[:8]}") as url:
        yield url


@pytest.fixture(scope="module")
async def settings(backend_url: str, web_vhost: str) -> AsyncIterator[Settings]:
    """Settings of the module's app, tortoise connected to its database."""
    settings = Settings(database_url=backend_url, amqp_url=web_vhost, temporal_address=NO_TEMPORAL)
    if settings.is_sqlite:
        await database.migrate(settings, CONTEXTS)
    await database.connect(settings, CONTEXTS)
    try:
        yield settings
    finally:
        await database.close()
        # tortoise caches SQL per connection name; the next module may use another dialect.
        EXECUTOR_CACHE.clear()


@pytest.fixture(scope="package")
async def worker(web_vhost: str) -> AsyncIterator[FakeWorker]:
    async with FakeWorker(web_vhost, CONTEXTS.commands) as fake:
        yield fake


@pytest.fixture
async def fake_worker(worker: FakeWorker) -> FakeWorker:
    """The package's fake worker, its queues emptied of what earlier tests left."""
    await worker.purge()
    return worker


async def client_of(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, CONTEXTS)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://front-door") as client:
            yield client


@pytest.fixture(scope="module")
async def api(settings: Settings, worker: FakeWorker) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app (the fake worker's topology declared first)."""
    async for client in client_of(settings):
        yield client


async def new_token(scope: str) -> tuple[str, str]:
    """A new token of ``scope``: its name and the token."""
    name = f"{scope}-{uuid.uuid4().hex[:8]}"
    return name, await create_token(name, scope)


@pytest.fixture(scope="module")
async def write_token(settings: Settings) -> str:
    return (await new_token("write"))[1]


@pytest.fixture(scope="module")
async def read_token(settings: Settings) -> str:
    return (await new_token("read"))[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sending(token: str, key: str, wait: int | None = None) -> dict[str, str]:
    """The headers of a command sent with ``token`` under ``key``."""
    headers = {**bearer(token), "Idempotency-Key": key}
    return headers if wait is None else {**headers, "Prefer": f"wait={wait}"}


__all__ = ["bearer", "client_of", "new_token", "revoke_token", "sending"]
