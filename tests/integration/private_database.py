"""A migrated database of a test module's own, on SQLite and on PostgreSQL.

For tests that read a whole table (``worker check``, ``audit list``): the shared
test database holds rows other tests wrote, some of them bent on purpose.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from tests.services import create_database, drop_database, pg_url
from tests.wiring import CONTEXTS
from worker.config import Settings
from worker.persistence import database


@pytest.fixture(params=["sqlite", "postgres"], scope="module")
async def private_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The URL of a fresh, migrated database, with tortoise connected to it."""
    name = f"worker_private_{uuid.uuid4().hex[:8]}"
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('private') / 'private.sqlite3'}"
    else:
        await asyncio.to_thread(create_database, name)  # it runs a loop of its own
        url = pg_url(name)
    settings = Settings(database_url=url)
    await database.migrate(settings, CONTEXTS)
    await database.connect(settings, CONTEXTS)
    try:
        yield url
    finally:
        await database.close()
        EXECUTOR_CACHE.clear()  # tortoise caches SQL per connection name, by dialect
        if request.param == "postgres":
            await asyncio.to_thread(drop_database, name)
