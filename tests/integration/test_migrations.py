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
CONTEXT_MIGRATIONS = [
    *((name, "0001_initial") for name in ("accounts", "transfers", *CONTEXTS_SINCE)),
    ("customers", "0002_loyalty_points_bigint"),
]
#: The framework's migrations since the previous release.
FRAMEWORK_SINCE = ("0006_read_side", "0007_front_door")
#: The tables added since the split, which the previous release never had: the new
#: contexts', the read side's, the first generation of each projection's, the front door's.
TABLES_SINCE = {
    *("customers", "products", "product_reservations", "orders", "order_lines"),
    *("event_log", "handler_state", "handled_events", "projection_cursors", "command_outbox"),
    *("account_statement_g1", "customer_orders_g1", "product_availability_g1"),
    *("api_token", "administrator", "console_session", "http_command"),
}
#: Columns added to the previous release's tables (last in each row).
COLUMNS_SINCE = ("outbox",)
__all__ = ["new_database"]  # the fixture


async def test_a_database_of_the_previous_release_keeps_every_row_when_migrated(
    new_database: NewDatabase,
) -> None:
    url = await previous_release_database(new_database)
    before = await contents(url, previous_release_db.FILLED_TABLES)

    await migrate(url)

    after = await contents(url, previous_release_db.FILLED_TABLES)
    # The migration logs every event the outbox still holds, in id order (rows by id).
    assert [row[-1] for row in after["outbox"]] == list(range(1, len(after["outbox"]) + 1))
    for table in COLUMNS_SINCE:
        after[table] = [row[:-1] for row in after[table]]
    assert after == before
    assert all(before.values())
    framework = (*previous_release_db.MIGRATIONS, *FRAMEWORK_SINCE)
    assert await applied_migrations(url) == sorted(
        [*CONTEXT_MIGRATIONS, *(("worker", name) for name in framework)]
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
    before = await schema(before_split)
    for table in COLUMNS_SINCE:  # the column added last, and its index
        assert kept[table] != before[table]
        kept.pop(table), before.pop(table)
    assert kept == before


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
