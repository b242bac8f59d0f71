"""A CLI command's read of the database: tortoise connected for one query, or one line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from worker.cli.common import fail, load_settings, open_database, run_async
from worker.cli.errors import DATABASE_ERRORS, MIGRATE_HINT, database_failure

T = TypeVar("T")


def read_database(query: Callable[[], Awaitable[T]]) -> T:
    """What ``query`` reads, or one line saying why the database cannot tell.

    Reading never creates the SQLite file (nor its directory), as connecting would.
    """
    from worker.persistence import database

    settings = load_settings()
    path = settings.sqlite_path
    if path is not None and path != ":memory:" and not Path(path).exists():
        fail(f"the database file {path} does not exist: {MIGRATE_HINT}")

    async def connected() -> T:
        try:
            await open_database(settings)
            return await query()
        finally:
            await database.close()

    try:
        return run_async(connected())
    except DATABASE_ERRORS as error:
        raise database_failure(error, settings.database_url) from error
