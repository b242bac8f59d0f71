"""A projection's tables, as its ``apply`` writes them and its readers read them.

SQL is written with ``{logical}`` table names and ``?`` placeholders; the read model
fills in the physical names of one generation and the connection's dialect.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from worker.persistence.sql import dialect_sql, inserted
from worker.readside.declarations import Projection, physical_table

#: ``CREATE TABLE``/``CREATE [UNIQUE] INDEX`` made idempotent (``IF NOT EXISTS``), in any case.
_IF_NOT_EXISTS = re.compile(
    r"^\s*(CREATE\s+(?:TABLE|(?:UNIQUE\s+)?INDEX))\s+(?!IF\s+NOT\s+EXISTS)", re.IGNORECASE
)
GENERATION_SQL = "SELECT generation FROM handler_state WHERE name = ?"


class ReadModel:
    """One generation of a projection's tables, through one connection (or transaction)."""

    def __init__(self, db: BaseDBAsyncClient, projection: Projection, generation: int) -> None:
        self.db = db
        self.projection = projection
        self.generation = generation
        self._names = {
            logical: physical_table(logical, generation) for logical in projection.tables
        }

    def table(self, logical: str) -> str:
        return self._names[logical]

    def sql(self, statement: str) -> str:
        """``statement`` with physical table names and the dialect's placeholders."""
        return dialect_sql(self.db, statement.format(**self._names))

    async def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Run a write; return how many rows it changed (inserted, updated, deleted)."""
        text = statement.format(**self._names)
        if text.lstrip().upper().startswith("INSERT") and "RETURNING" not in text.upper():
            return await inserted(self.db, text, list(params))
        changed, _ = await self.db.execute_query(self.sql(statement), list(params))
        return int(changed)

    async def fetch(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        _, rows = await self.db.execute_query(self.sql(statement), list(params))
        return [dict(row) for row in rows]

    async def create_tables(self) -> None:
        """Create this generation's tables if they are not there (idempotent)."""
        for logical, statements in self.projection.tables.items():
            for statement in statements:
                ddl = _IF_NOT_EXISTS.sub(
                    r"\1 IF NOT EXISTS ", statement.format(table=self._names[logical]), 1
                )
                await self.db.execute_script(ddl)

    async def drop_tables(self) -> None:
        for logical in self.projection.tables:
            await self.db.execute_script(f'DROP TABLE IF EXISTS "{self._names[logical]}"')


async def live_generation(db: BaseDBAsyncClient, name: str) -> int:
    _, rows = await db.execute_query(dialect_sql(db, GENERATION_SQL), [name])
    return int(rows[0]["generation"]) if rows else 1


async def open_read_model(projection: Projection, db: BaseDBAsyncClient | None = None) -> ReadModel:
    """The live generation of ``projection``, for reading (tortoise connected)."""
    db = db or connections.get("default")
    return ReadModel(db, projection, await live_generation(db, projection.name))
