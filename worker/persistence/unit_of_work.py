"""The unit of work on tortoise: inbox, aggregates and outbox in one transaction."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient, TransactionContext
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.shared.model import AggregateRoot
from worker.bus.outcomes import ErrorInfo, Outcome, Status
from worker.bus.unit_of_work import DuplicateMessage, MessageContext, UnitOfWork
from worker.persistence import sql
from worker.persistence.models import InboxRow, OutboxRow
from worker.persistence.outbox import outbox_columns
from worker.persistence.repository import TortoiseRepository
from worker.persistence.store import AggregateStore

log = logging.getLogger(__name__)

A = TypeVar("A", bound=AggregateRoot)
ReadPorts = Mapping[type[Any], Callable[[UnitOfWork], object]]


def outcome_from_row(row: InboxRow) -> Outcome:
    error = None if row.error_code is None else ErrorInfo(row.error_code, row.error_message or "")
    return Outcome(Status(row.status), row.message_id, error)


class TortoiseUnitOfWork(UnitOfWork):
    """Opens a transaction on enter; commits only in :meth:`commit`."""

    def __init__(
        self,
        context: MessageContext,
        stores: Mapping[type[AggregateRoot], AggregateStore[Any]],
        read_ports: ReadPorts | None = None,
    ) -> None:
        super().__init__(context, read_ports)
        self._stores = stores
        self._repositories: dict[type[AggregateRoot], TortoiseRepository[Any]] = {}
        self._transaction: TransactionContext | None = None
        self._db: TransactionalDBClient | None = None

    async def __aenter__(self) -> TortoiseUnitOfWork:
        if isinstance(connections.get("default"), TransactionalDBClient):
            # tortoise would silently make this a savepoint of the outer transaction.
            raise RuntimeError("a unit of work cannot be opened inside another one")
        self._transaction = in_transaction()
        try:
            self._db = await self._transaction.__aenter__()
        except BaseException as error:
            # tortoise took a connection (and marked this task as in a transaction)
            # before BEGIN failed; give both back, or the next attempt inherits them.
            transaction, self._transaction = self._transaction, None
            with contextlib.suppress(Exception):
                await transaction.__aexit__(type(error), error, error.__traceback__)
            raise
        return self

    def repository(self, kind: type[A]) -> TortoiseRepository[A]:
        repository = self._repositories.get(kind)
        if repository is None:
            assert self._db is not None, "the unit of work is not open"
            store = self._stores.get(kind)
            if store is None:
                raise LookupError(f"no bounded context declares how to store {kind.__name__}")
            repository = self._repositories[kind] = TortoiseRepository(self._db, store)
        return cast(TortoiseRepository[A], repository)

    async def recorded_outcome(self) -> Outcome | None:
        assert self._db is not None
        query = "SELECT status, error_code, error_message FROM inbox WHERE message_id = ?"
        _, rows = await self._db.execute_query(
            sql.dialect_sql(self._db, query), [self.context.message_id]
        )
        if not rows:
            return None
        row = rows[0]
        error = (
            None
            if row["error_code"] is None
            else ErrorInfo(row["error_code"], row["error_message"] or "")
        )
        return Outcome(Status(row["status"]), self.context.message_id, error)

    async def outcomes_with_prefix(self, prefix: str) -> dict[str, Outcome]:
        rows = await InboxRow.filter(message_id__startswith=prefix).using_db(self._db)
        # Filtered again here: LIKE would read "_" in a transfer id as a wildcard.
        return {r.message_id: outcome_from_row(r) for r in rows if r.message_id.startswith(prefix)}

    def discard_changes(self) -> None:
        for repository in self._repositories.values():
            repository.forget()

    async def commit(self, outcome: Outcome) -> None:
        assert self._transaction is not None
        try:
            await self._write_inbox(outcome)
            for repository in self._repositories.values():
                await repository.save_changed()
            await self._write_outbox()
        except BaseException:
            await self.rollback()
            raise
        transaction, self._transaction = self._transaction, None
        await transaction.__aexit__(None, None, None)

    async def _write_inbox(self, outcome: Outcome) -> None:
        # Written first: a concurrent delivery of the same id then waits on the
        # primary key instead of doing the work twice.
        assert self._db is not None
        row = {
            "message_id": outcome.message_id,
            "command": self.context.command_name,
            "status": outcome.status.value,
            "error_code": outcome.error.code if outcome.error else None,
            "error_message": outcome.error.message if outcome.error else None,
            "correlation_id": self.context.correlation_id,
            "processed_at": sql.now(),
        }
        try:
            await sql.insert(self._db, InboxRow, [row])
        except IntegrityError:
            raise DuplicateMessage(outcome.message_id) from None

    async def _write_outbox(self) -> None:
        rows = [
            outbox_columns(event, self.context)
            for repository in self._repositories.values()
            for aggregate in repository.seen.values()
            for event in aggregate.collect_events()
        ]
        if rows:
            assert self._db is not None
            await sql.insert(self._db, OutboxRow, rows)
        self.events_committed = len(rows)

    async def rollback(self) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is None:
            return
        try:
            await transaction.__aexit__(RuntimeError, RuntimeError("rolled back"), None)
        except Exception:
            # A rollback fails only on a broken connection, where the server has
            # already aborted the transaction; the original error is what matters.
            log.debug("rollback failed", exc_info=True)


class TortoiseUnitOfWorkFactory:
    """Makes one unit of work per message, storing the aggregates the contexts declare."""

    def __init__(
        self, stores: Sequence[AggregateStore[Any]], read_ports: ReadPorts | None = None
    ) -> None:
        self._stores = {store.aggregate: store for store in stores}
        self._read_ports = read_ports or {}

    def __call__(self, context: MessageContext) -> UnitOfWork:
        return TortoiseUnitOfWork(context, self._stores, self._read_ports)
