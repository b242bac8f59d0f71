"""Tortoise-backed repositories, bound to one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from domain.errors import ConcurrencyConflict
from domain.shared import AggregateRoot
from worker.adapters import sql

A = TypeVar("A", bound=AggregateRoot)
R = TypeVar("R", bound=Model)


class TortoiseRepository(Generic[A, R]):
    """Implements :class:`domain.ports.Repository` on one connection.

    It remembers every aggregate it handed out or was given (``seen``), so the
    unit of work can save them and collect their events at commit.
    """

    def __init__(
        self,
        connection: BaseDBAsyncClient,
        row_type: type[R],
        to_domain: Callable[[R], A],
        columns_of: Callable[[A], dict[str, Any]],
    ) -> None:
        self._db = connection
        self._row_type = row_type
        self._to_domain = to_domain
        self._columns_of = columns_of
        self.seen: dict[str, A] = {}
        self._new: set[str] = set()

    async def get(self, id: str) -> A | None:
        if id in self.seen:
            return self.seen[id]
        query = sql.dialect_sql(
            self._db, f'SELECT * FROM "{self._row_type._meta.db_table}" WHERE id = ?'
        )
        _, rows = await self._db.execute_query(query, [id])
        if not rows:
            return None
        # What tortoise's own executor does with a fetched row (per-dialect conversions).
        aggregate = self._to_domain(self._row_type._init_from_db(**dict(rows[0])))
        self.seen[id] = aggregate
        return aggregate

    def add(self, aggregate: A) -> None:
        self.seen[aggregate.id] = aggregate
        self._new.add(aggregate.id)

    async def list(self) -> list[A]:
        rows = await self._row_type.all().using_db(self._db).order_by("id")
        return [self._to_domain(row) for row in rows]

    def forget(self) -> None:
        self.seen.clear()
        self._new.clear()

    async def save_changed(self) -> None:
        """Write every aggregate with pending events, checking its version."""
        for aggregate in self.seen.values():
            if not aggregate.pending_events:
                continue
            new_version = aggregate.version + len(aggregate.pending_events)
            columns = self._columns_of(aggregate)
            if aggregate.id in self._new:
                try:
                    await self._row_type.create(
                        id=aggregate.id, version=new_version, using_db=self._db, **columns
                    )
                except IntegrityError:
                    raise ConcurrencyConflict(f"{aggregate.id} was just created") from None
                continue
            columns |= {"version": new_version, "updated_at": sql.now()}
            updated = await sql.update_versioned(
                self._db, self._row_type, aggregate.id, aggregate.version, columns
            )
            if updated != 1:
                raise ConcurrencyConflict(
                    f"{aggregate.id} changed since version {aggregate.version}"
                )
