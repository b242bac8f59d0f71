"""Backends for the contract suite: the fake, SQLite and PostgreSQL behind one seam."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.expressions import F

from tests.fakes import FakeUnitOfWorkFactory
from tests.services import private_vhost
from tests.wiring import CONTEXTS, tortoise_uow_factory
from worker.bus.unit_of_work import MessageContext, UnitOfWork
from worker.config import Settings
from worker.contexts.accounts.persistence import AccountRow
from worker.persistence import database
from worker.persistence.models import OutboxRow

pytestmark = pytest.mark.integration


@dataclass
class Backend:
    name: str
    uow_factory: Callable[[MessageContext], UnitOfWork]
    outbox: Callable[[], Any]  # async () -> list of (event type, aggregate id, version, body)
    #: Another writer's change, made while ``uow`` holds the aggregate (in its transaction,
    #: so that SQLite's single writer lock does not deadlock the test).
    bump_version: Callable[[UnitOfWork, str], Any]


async def _bump_row_version(uow: UnitOfWork, account_id: str) -> None:
    db = uow._db  # type: ignore[attr-defined]
    await AccountRow.filter(id=account_id).using_db(db).update(version=F("version") + 1)


async def _tortoise_outbox() -> list[tuple[str, str, int, dict[str, Any], str | None, str | None]]:
    rows = await OutboxRow.all().order_by("id")
    return [
        (
            r.event_type,
            r.aggregate_id,
            r.aggregate_version,
            json.loads(r.payload),
            r.causation_id,
            r.correlation_id,
        )
        for r in rows
    ]


@pytest.fixture(params=["fake", "sqlite", "postgres"], scope="module")
async def backend(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Backend]:
    """The same unit-of-work contract, on each storage the worker supports."""
    if request.param == "fake":
        factory = FakeUnitOfWorkFactory()

        async def fake_outbox() -> list[Any]:
            return [
                (
                    f"accounts.{e.name()}",
                    e.aggregate_id,
                    e.aggregate_version,
                    {**e.payload(), "occurred_at": e.occurred_at.isoformat()},
                    c.message_id,
                    c.correlation_id,
                )
                for e, c in factory.store.outbox
            ]

        async def bump(uow: UnitOfWork, account_id: str) -> None:
            factory.store.accounts[account_id]["version"] += 1

        yield Backend("fake", factory, fake_outbox, bump)
        return
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "contract.sqlite3"
        settings = Settings(database_url=f"sqlite://{path}")
        await database.migrate(settings, CONTEXTS)
    else:
        settings = Settings(database_url=database_url)
    await database.connect(settings, CONTEXTS)
    try:
        yield Backend(request.param, tortoise_uow_factory, _tortoise_outbox, _bump_row_version)
    finally:
        await database.close()
        # tortoise caches SQL per connection name; the next backend has another dialect.
        EXECUTOR_CACHE.clear()


@pytest.fixture(scope="module")
def vhost_url() -> Iterator[str]:
    """A vhost of the module's own, for tests that need the fixed queue names to themselves."""
    with private_vhost(f"test-{uuid.uuid4().hex[:8]}") as url:
        yield url
