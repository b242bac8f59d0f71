"""What a database holds, read with the driver alone: its schema, its rows, its migrations.

Comparable across databases of one dialect (SQLite or PostgreSQL), and independent
of tortoise's state, so that an old release's database and a new one read alike.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from tests.services import pg_fetch

Rows = list[tuple[Any, ...]]


def _sqlite_path(url: str) -> str:
    return url.split("://", 1)[1]


def _sqlite_query(url: str, sql: str) -> Rows:
    with sqlite3.connect(_sqlite_path(url)) as connection:
        return [tuple(row) for row in connection.execute(sql)]


async def query(url: str, sql: str) -> Rows:
    """``sql``'s rows, as tuples, on the database at the tortoise URL ``url``."""
    if url.startswith("sqlite://"):
        return await asyncio.to_thread(_sqlite_query, url, sql)
    return [tuple(row) for row in await pg_fetch(url, sql)]


async def execute(url: str, *statements: str) -> None:
    """Run each statement, committed (sqlite3's block commits; asyncpg autocommits)."""
    for sql in statements:
        await query(url, sql)


async def tables(url: str) -> list[str]:
    if url.startswith("sqlite://"):
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return sorted(name for (name,) in await query(url, sql))


async def _sqlite_table(url: str, table: str) -> dict[str, Any]:
    indexes = {}
    for _, name, unique, origin, partial in await query(url, f'PRAGMA index_list("{table}")'):
        columns = [column for _, _, column in await query(url, f'PRAGMA index_info("{name}")')]
        indexes[name] = (unique, origin, partial, columns)
    return {"columns": await query(url, f'PRAGMA table_info("{table}")'), "indexes": indexes}


async def _pg_table(url: str, table: str) -> dict[str, Any]:
    columns = await query(
        url,
        "SELECT column_name, data_type, character_maximum_length, numeric_precision,"
        " numeric_scale, is_nullable, column_default FROM information_schema.columns"
        f" WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position",
    )
    indexes = await query(
        url, f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename = '{table}' ORDER BY 1"
    )
    comment = await query(url, f"SELECT obj_description('public.\"{table}\"'::regclass)")
    return {"columns": columns, "indexes": dict(indexes), "comment": comment}


async def schema(url: str) -> dict[str, dict[str, Any]]:
    """Each table's columns (name, type, nullability, default, key) and indexes."""
    describe = _sqlite_table if url.startswith("sqlite://") else _pg_table
    return {table: await describe(url, table) for table in await tables(url)}


async def contents(url: str, names: list[str]) -> dict[str, Rows]:
    """Every row of each table in ``names``, in primary-key order."""
    return {table: await query(url, f'SELECT * FROM "{table}" ORDER BY 1') for table in names}


async def applied_migrations(url: str) -> list[tuple[str, str]]:
    """The (app, migration) pairs tortoise recorded as applied."""
    sql = "SELECT app, name FROM tortoise_migrations ORDER BY app, name"
    return [(app, name) for app, name in await query(url, sql)]
