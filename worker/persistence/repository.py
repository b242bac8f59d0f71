"""Tortoise-backed repositories, bound to one transaction."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from domain.shared.errors import ConcurrencyConflict
from domain.shared.model import AggregateRoot
from worker.persistence import sql
from worker.persistence.store import AggregateStore, ChildRows

A = TypeVar("A", bound=AggregateRoot)
#: Reads of an aggregate with child rows, before a writer that keeps committing wins.
TORN_READ_ATTEMPTS = 5


class TortoiseRepository(Generic[A]):
    """Implements :class:`domain.shared.ports.Repository` on one connection.

    It remembers every aggregate it handed out or was given (``seen``), so the
    unit of work can save them and collect their events at commit. An aggregate
    with child entities is read and written across its tables, in the same
    transaction; the version check is on the root.
    """

    def __init__(self, connection: BaseDBAsyncClient, store: AggregateStore[A]) -> None:
        self._db = connection
        self._store = store
        self._row_type: type[Model] = store.row
        self.seen: dict[str, A] = {}
        self._new: set[str] = set()

    async def get(self, id: str) -> A | None:
        if id in self.seen:
            return self.seen[id]
        table = self._row_type._meta.db_table
        query = sql.dialect_sql(self._db, f'SELECT * FROM "{table}" WHERE id = ?')
        for _ in range(TORN_READ_ATTEMPTS):
            _, rows = await self._db.execute_query(query, [id])
            if not rows:
                return None
            # What tortoise's own executor does with a fetched row (per-dialect conversions).
            root = self._row_type._init_from_db(**dict(rows[0]))
            children = await self._children_of(id)
            read_version = rows[0]["version"]
            if not self._store.children or await self._version_of(id) == read_version:
                aggregate = self._store.to_domain(root, children)
                self.seen[id] = aggregate
                return aggregate
        raise ConcurrencyConflict(f"{id} kept changing while it was read")

    async def _version_of(self, id: str) -> int | None:
        """The root's version now. Each statement of a READ COMMITTED transaction sees
        its own snapshot: the children read between two equal versions are the root's,
        since every change of a child rewrites them with a new root version."""
        table = self._row_type._meta.db_table
        query = sql.dialect_sql(self._db, f'SELECT version FROM "{table}" WHERE id = ?')
        _, rows = await self._db.execute_query(query, [id])
        return int(rows[0]["version"]) if rows else None

    async def _children_of(self, id: str) -> dict[type[Model], list[Model]]:
        children: dict[type[Model], list[Model]] = {}
        for child in self._store.children:
            query = child.row.filter(**{child.parent_key: id}).order_by(child.order_by)
            children[child.row] = list(await query.using_db(self._db))
        return children

    def add(self, aggregate: A) -> None:
        self.seen[aggregate.id] = aggregate
        self._new.add(aggregate.id)

    async def list(self) -> list[A]:
        rows = await self._row_type.all().using_db(self._db).order_by("id")
        if not self._store.children:
            return [self._store.to_domain(row, {}) for row in rows]
        return [self._store.to_domain(row, await self._children_of(row.pk)) for row in rows]

    def forget(self) -> None:
        self.seen.clear()
        self._new.clear()

    async def save_changed(self) -> None:
        """Write every aggregate with pending events, checking its version."""
        for aggregate in self.seen.values():
            if not aggregate.pending_events:
                continue
            new_version = aggregate.version + len(aggregate.pending_events)
            columns = self._store.columns_of(aggregate)
            if aggregate.id in self._new:
                try:
                    await self._row_type.create(
                        id=aggregate.id, version=new_version, using_db=self._db, **columns
                    )
                except IntegrityError:
                    raise ConcurrencyConflict(f"{aggregate.id} was just created") from None
            else:
                # An aggregate that keeps its own times (its events') sets updated_at itself.
                columns = {"updated_at": sql.now(), **columns, "version": new_version}
                updated = await sql.update_versioned(
                    self._db, self._row_type, aggregate.id, aggregate.version, columns
                )
                if updated != 1:
                    raise ConcurrencyConflict(
                        f"{aggregate.id} changed since version {aggregate.version}"
                    )
            for child in self._store.children:
                await self._replace_children(child, aggregate)

    async def _replace_children(self, child: ChildRows[A], aggregate: A) -> None:
        """The root's version check passed (or it is new): its child rows are this
        transaction's to rewrite."""
        table = child.row._meta.db_table
        delete = sql.dialect_sql(self._db, f'DELETE FROM "{table}" WHERE "{child.parent_key}" = ?')
        await self._db.execute_query(delete, [aggregate.id])
        rows: list[dict[str, Any]] = [
            {child.parent_key: aggregate.id, **columns} for columns in child.rows_of(aggregate)
        ]
        if rows:
            await sql.insert(self._db, child.row, rows)
