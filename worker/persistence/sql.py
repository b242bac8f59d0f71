"""Hand-written SQL for the per-message hot path, in the connection's own dialect.

The ORM builds each statement anew (a measurable share of a command's CPU time);
these few statements are written once. Values go through the model fields'
``to_db_value``, so rows read back through the ORM look exactly as if it wrote them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

_MARK = re.compile(r"\?")


@cache
def _postgres(sql: str) -> str:
    numbers = iter(range(1, 1000))
    return _MARK.sub(lambda _: f"${next(numbers)}", sql)


def dialect_sql(db: BaseDBAsyncClient, sql: str) -> str:
    """``sql`` with ``?`` placeholders turned into ``$n`` on PostgreSQL."""
    return _postgres(sql) if db.capabilities.dialect == "postgres" else sql


def db_values(model: type[Model], values: dict[str, Any]) -> list[Any]:
    fields = model._meta.fields_map
    return [fields[name].to_db_value(value, model) for name, value in values.items()]


def now() -> datetime:
    return datetime.now(UTC)


async def insert(db: BaseDBAsyncClient, model: type[Model], rows: list[dict[str, Any]]) -> None:
    """INSERT rows (all with the same keys) into ``model``'s table."""
    columns = list(rows[0])
    sql = dialect_sql(
        db,
        f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) '
        f"VALUES ({', '.join('?' * len(columns))})",
    )
    if len(rows) == 1:
        await db.execute_query(sql, db_values(model, rows[0]))
    else:
        await db.execute_many(sql, [db_values(model, row) for row in rows])


async def update_versioned(
    db: BaseDBAsyncClient, model: type[Model], id: str, version: int, values: dict[str, Any]
) -> int:
    """UPDATE one row if it still has ``version``; return the rows changed (0 or 1)."""
    assignments = ", ".join(f"{column} = ?" for column in values)
    sql = dialect_sql(
        db, f'UPDATE "{model._meta.db_table}" SET {assignments} WHERE id = ? AND version = ?'
    )
    changed, _ = await db.execute_query(sql, [*db_values(model, values), id, version])
    return int(changed)


async def inserted(db: BaseDBAsyncClient, sql: str, values: list[Any]) -> int:
    """Run an ``INSERT ... ON CONFLICT DO NOTHING`` (``?`` placeholders); return the rows
    it inserted (0: the key was there).

    tortoise's PostgreSQL client reads the count of an INSERT from the wrong word of its
    status (``INSERT <oid> <rows>``): the count is asked for with ``RETURNING`` instead.
    """
    if db.capabilities.dialect != "postgres":
        changed, _ = await db.execute_query(sql, values)
        return int(changed)
    counted = f"WITH inserted AS ({sql} RETURNING 1) SELECT COUNT(*) AS n FROM inserted"
    _, rows = await db.execute_query(dialect_sql(db, counted), values)
    return int(rows[0]["n"])
