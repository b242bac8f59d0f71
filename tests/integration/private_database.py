"""A migrated database of a test module's own, on SQLite and on PostgreSQL.

For tests that read a whole table (``worker check``, ``audit list``): the shared
test database holds rows other tests wrote, some of them bent on purpose.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.context_storage import migrated_database
from tests.wiring import CONTEXTS


@pytest.fixture(params=["sqlite", "postgres"], scope="module")
async def private_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The URL of a fresh, migrated database, with tortoise connected to it."""
    async with migrated_database(request.param, "private", CONTEXTS, tmp_path_factory) as url:
        yield url
