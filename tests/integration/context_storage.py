"""What the storage tests of each bounded context share: a migrated database of the test
module's own (SQLite or PostgreSQL), the real unit of work on it, and the CLI run as a
user runs it, against that database.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from domain.shared.errors import ConcurrencyConflict
from domain.shared.model import AggregateRoot
from domain.shared.money import Money
from tests.services import create_database, drop_database, pg_url
from worker.bus.outcomes import Outcome
from worker.bus.unit_of_work import MessageContext, UnitOfWork
from worker.config import Settings
from worker.context import Contexts
from worker.persistence import database, sql
from worker.persistence.unit_of_work import TortoiseUnitOfWorkFactory

A = TypeVar("A", bound=AggregateRoot)
ROOT = Path(__file__).resolve().parents[2]
KINDS = ["sqlite", "postgres"]


@asynccontextmanager
async def migrated_database(
    kind: str, label: str, contexts: Contexts, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A fresh ``kind`` database (its URL) with the tables of ``contexts``, tortoise connected
    to it for the block; closed, and a PostgreSQL one dropped, afterwards."""
    name = f"worker_{label}_{uuid.uuid4().hex[:8]}"
    if kind == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp(label) / f'{label}.sqlite3'}"
    else:
        await asyncio.to_thread(create_database, name)  # it runs a loop of its own
        url = pg_url(name)
    settings = Settings(database_url=url)
    await database.migrate(settings, contexts)
    await database.connect(settings, contexts)
    try:
        yield url
    finally:
        await database.close()
        EXECUTOR_CACHE.clear()  # tortoise caches SQL per connection name, by dialect
        if kind == "postgres":
            await asyncio.to_thread(drop_database, name)


def database_fixture(label: str, contexts: Contexts) -> Callable[..., Any]:
    """A module-scoped fixture ``<label>_database``, once on SQLite and once on PostgreSQL:
    the URL of a :func:`migrated_database` of the module's own. Assign it to that name."""

    @pytest.fixture(params=KINDS, scope="module", name=f"{label}_database")
    async def fixture(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[str]:
        async with migrated_database(request.param, label, contexts, tmp_path_factory) as url:
            yield url

    return fixture


class Storage:
    """The real unit of work over ``contexts``, one message at a time."""

    def __init__(self, contexts: Contexts) -> None:
        self.contexts = contexts
        self.uow_factory = TortoiseUnitOfWorkFactory(contexts.aggregates, contexts.read_ports)

    def unit_of_work(self) -> UnitOfWork:
        return self.uow_factory(MessageContext(f"msg-{uuid.uuid4().hex}", "test"))

    @staticmethod
    async def commit(uow: UnitOfWork) -> None:
        await uow.commit(Outcome.accepted(uow.context.message_id))

    async def find(self, kind: type[A], aggregate_id: str) -> A | None:
        async with self.unit_of_work() as uow:
            return await uow.repository(kind).get(aggregate_id)

    async def stored(self, kind: type[A], aggregate_id: str) -> A:
        """The ``kind`` aggregate ``aggregate_id`` as stored; it must be there."""
        aggregate = await self.find(kind, aggregate_id)
        assert aggregate is not None, f"no {kind.__name__} {aggregate_id}"
        return aggregate

    async def commit_a_stale_copy(
        self, kind: type[A], aggregate_id: str, table: str, change: Callable[[A], object]
    ) -> None:
        """Read ``aggregate_id``, let someone else bump its version in ``table``, ``change``
        the now stale copy and commit it: the version check must refuse the commit."""
        async with self.unit_of_work() as uow:
            stale = await uow.repository(kind).get(aggregate_id)
            assert stale is not None
            # Someone else's change, committed since this copy was read (in its transaction,
            # so that SQLite's single writer lock does not deadlock).
            db = uow._db  # type: ignore[attr-defined]
            query = f"UPDATE {table} SET version = version + 1 WHERE id = ?"
            await db.execute_query(sql.dialect_sql(db, query), [aggregate_id])
            change(stale)
            with pytest.raises(ConcurrencyConflict):
                await self.commit(uow)


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def worker_cli(database_url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m worker ARGV...`` on ``database_url``, with the composition root's contexts
    alone (no ``EXTRA_CONTEXTS``), as a user runs it."""
    env = {**os.environ, "DATABASE_URL": database_url, "EXTRA_CONTEXTS": ""}
    return subprocess.run(
        [sys.executable, "-m", "worker", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=60,
    )
