"""An old database migrates in place; a new one gets the schema it always got.

Every database here is one of the test's own, on SQLite and on PostgreSQL: an empty
one migrated by this release, or one the previous release migrated (and filled) first.
"""

from __future__ import annotations

import pytest

from tests.integration import previous_release_db
from tests.integration.database_snapshot import applied_migrations, contents, schema
from tests.integration.empty_databases import (
    NewDatabase,
    migrate,
    new_database,
    previous_release_database,
)

pytestmark = pytest.mark.integration

CONTEXTS_SINCE = ("customers", "catalog", "orders")
CONTEXT_MIGRATIONS = [(name, "0001_initial") for name in ("accounts", "transfers", *CONTEXTS_SINCE)]
#: The tables of the contexts added after the split, which the previous release never had.
TABLES_SINCE = {"customers", "products", "product_reservations", "orders", "order_lines"}
__all__ = ["new_database"]  # the fixture


async def test_a_database_of_the_previous_release_keeps_every_row_when_migrated(
    new_database: NewDatabase,
) -> None:
    url = await previous_release_database(new_database)
    before = await contents(url, previous_release_db.FILLED_TABLES)

    await migrate(url)

    assert await contents(url, previous_release_db.FILLED_TABLES) == before
    assert all(before.values())
    assert await applied_migrations(url) == sorted(
        [*CONTEXT_MIGRATIONS, *(("worker", name) for name in previous_release_db.MIGRATIONS)]
    )


@pytest.mark.parametrize("up_to", previous_release_db.MIGRATIONS)
async def test_a_database_of_any_older_release_migrates_to_a_new_database_s_schema(
    new_database: NewDatabase, up_to: str
) -> None:
    old, new = await new_database(), await new_database()
    await previous_release_db.migrate_as_previous_release(old, up_to)

    await migrate(old)
    await migrate(new)

    assert await schema(old) == await schema(new)
    assert await applied_migrations(old) == await applied_migrations(new)


async def test_a_new_database_gets_the_schema_it_got_before_the_split(
    new_database: NewDatabase,
) -> None:
    before_split, after_split = await new_database(), await new_database()
    await previous_release_db.migrate_as_previous_release(before_split)

    await migrate(after_split)

    since = await schema(after_split)
    assert set(since) - set(await schema(before_split)) == TABLES_SINCE
    kept = {table: shape for table, shape in since.items() if table not in TABLES_SINCE}
    assert kept == await schema(before_split)


async def test_migrating_a_migrated_database_again_changes_nothing(
    new_database: NewDatabase,
) -> None:
    for url in (await new_database(), await previous_release_database(new_database)):
        await migrate(url)
        migrated = await snapshot(url)

        await migrate(url)

        assert await snapshot(url) == migrated


async def snapshot(url: str) -> tuple[object, ...]:
    filled = previous_release_db.FILLED_TABLES
    return await schema(url), await contents(url, filled), await applied_migrations(url)
