"""Empty databases of a test's own, on SQLite and on PostgreSQL, and what migrates them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from tests.integration import previous_release_db
from tests.services import create_database, drop_database, pg_url
from tests.wiring import CONTEXTS
from worker.config import Settings
from worker.persistence import database

NewDatabase = Callable[[], Awaitable[str]]


@pytest.fixture(params=["sqlite", "postgres"])
async def new_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[NewDatabase]:
    """Makes empty databases of one dialect, dropped after the test."""
    created: list[str] = []

    async def make() -> str:
        name = f"worker_migrations_{uuid.uuid4().hex[:8]}"
        if request.param == "sqlite":
            return f"sqlite://{tmp_path_factory.mktemp('migrations') / name}.sqlite3"
        await asyncio.to_thread(create_database, name)  # it runs a loop of its own
        created.append(name)
        return pg_url(name)

    try:
        yield make
    finally:
        EXECUTOR_CACHE.clear()  # tortoise caches SQL per connection name, by dialect
        for name in created:
            await asyncio.to_thread(drop_database, name)


async def migrate(url: str) -> None:
    """``db migrate`` of this release."""
    await database.migrate(Settings(database_url=url), CONTEXTS)


async def previous_release_database(new_database: NewDatabase) -> str:
    """A new database, migrated and filled by the previous release."""
    url = await new_database()
    await previous_release_db.migrate_as_previous_release(url)
    await previous_release_db.fill_as_previous_release(url)
    return url
