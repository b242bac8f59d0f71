"""Hand-written in-memory fakes, injected where the real adapters plug in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from domain.accounts.account import Account, AccountStatus
from domain.shared.errors import ConcurrencyConflict
from domain.shared.model import AggregateRoot, DomainEvent
from domain.shared.money import Money
from domain.transfers.transfer import Transfer, TransferState
from worker.bus.outcomes import Outcome
from worker.bus.unit_of_work import DuplicateMessage, MessageContext, UnitOfWork

A = TypeVar("A", bound=AggregateRoot)


@dataclass
class FakeStore:
    """What the fake "database" holds: committed rows only."""

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    inbox: dict[str, Outcome] = field(default_factory=dict)
    outbox: list[tuple[DomainEvent, MessageContext]] = field(default_factory=list)
    commits: int = 0
    #: Tables of the aggregates of other contexts (a test-only one), by name.
    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def table(self, name: str) -> dict[str, dict[str, Any]]:
        if name in ("accounts", "transfers"):
            rows: dict[str, dict[str, Any]] = getattr(self, name)
            return rows
        return self.tables.setdefault(name, {})


def account_row(account: Account) -> dict[str, Any]:
    return {"owner": account.owner, "balance": account.balance, "status": account.status.value}


def account_from_row(id: str, row: dict[str, Any]) -> Account:
    balance = Money(row["balance"].amount, row["balance"].currency)
    return Account(id, row["owner"], balance, AccountStatus(row["status"]), row["version"])


def transfer_row(transfer: Transfer) -> dict[str, Any]:
    return {
        "from": transfer.from_account_id,
        "to": transfer.to_account_id,
        "amount": transfer.amount,
        "state": transfer.state.value,
        "reason": transfer.reason,
    }


def transfer_from_row(id: str, row: dict[str, Any]) -> Transfer:
    return Transfer(
        id,
        row["from"],
        row["to"],
        row["amount"],
        TransferState(row["state"]),
        row["reason"],
        row["version"],
    )


class FakeRepository(Generic[A]):
    """Implements the Repository port over one table of a :class:`FakeStore`."""

    def __init__(
        self,
        rows: dict[str, dict[str, Any]],
        to_row: Callable[[A], dict[str, Any]],
        from_row: Callable[[str, dict[str, Any]], A],
    ) -> None:
        self._rows, self._to_row, self._from_row = rows, to_row, from_row
        self.seen: dict[str, A] = {}
        self.new: set[str] = set()

    async def get(self, id: str) -> A | None:
        if id in self.seen:
            return self.seen[id]
        row = self._rows.get(id)
        if row is None:
            return None
        self.seen[id] = self._from_row(id, row)
        return self.seen[id]

    def add(self, aggregate: A) -> None:
        self.seen[aggregate.id] = aggregate
        self.new.add(aggregate.id)

    async def list(self) -> list[A]:
        return [a for a in [await self.get(i) for i in sorted(self._rows)] if a]

    def staged_rows(self) -> dict[str, dict[str, Any]]:
        """The rows a commit would write; raises on a stale version."""
        staged = {}
        for aggregate in self.seen.values():
            if not aggregate.pending_events:
                continue
            stored = self._rows.get(aggregate.id)
            if aggregate.id in self.new and stored is not None:
                raise ConcurrencyConflict(f"{aggregate.id} was just created")
            if aggregate.id not in self.new and (
                stored is None or stored["version"] != aggregate.version
            ):
                raise ConcurrencyConflict(f"{aggregate.id} changed")
            version = aggregate.version + len(aggregate.pending_events)
            staged[aggregate.id] = {**self._to_row(aggregate), "version": version}
        return staged


#: How the fake stores each aggregate type: its table in the store, and its row both ways.
FakeTable = tuple[str, Callable[[Any], dict[str, Any]], Callable[[str, dict[str, Any]], Any]]
FAKE_TABLES: dict[type[AggregateRoot], FakeTable] = {
    Account: ("accounts", account_row, account_from_row),
    Transfer: ("transfers", transfer_row, transfer_from_row),
}


class FakeUnitOfWork(UnitOfWork):
    """Commits to the store all at once, or not at all, like a transaction."""

    def __init__(
        self,
        context: MessageContext,
        store: FakeStore,
        tables: dict[type[AggregateRoot], FakeTable] | None = None,
        read_ports: dict[type[Any], Callable[[UnitOfWork], object]] | None = None,
    ) -> None:
        super().__init__(context, read_ports)
        self.store = store
        self.committed = False
        self._tables = tables or FAKE_TABLES
        self._repositories: dict[type[AggregateRoot], FakeRepository[Any]] = {}

    def repository(self, kind: type[A]) -> FakeRepository[A]:
        if kind not in self._repositories:
            name, to_row, from_row = self._tables[kind]
            self._repositories[kind] = FakeRepository(self.store.table(name), to_row, from_row)
        return self._repositories[kind]

    async def recorded_outcome(self) -> Outcome | None:
        return self.store.inbox.get(self.context.message_id)

    async def outcomes_with_prefix(self, prefix: str) -> dict[str, Outcome]:
        return {k: v for k, v in self.store.inbox.items() if k.startswith(prefix)}

    def discard_changes(self) -> None:
        self._repositories.clear()

    async def commit(self, outcome: Outcome) -> None:
        if outcome.message_id in self.store.inbox:
            raise DuplicateMessage(outcome.message_id)
        staged = {kind: repo.staged_rows() for kind, repo in self._repositories.items()}
        aggregates = [a for repo in self._repositories.values() for a in repo.seen.values()]
        events = [e for a in aggregates for e in a.collect_events()]
        for kind, rows in staged.items():
            self.store.table(self._tables[kind][0]).update(rows)
        self.store.inbox[outcome.message_id] = outcome
        self.store.outbox.extend((event, self.context) for event in events)
        self.store.commits += 1
        self.events_committed = len(events)
        self.committed = True

    async def rollback(self) -> None:
        pass


class FakeUnitOfWorkFactory:
    def __init__(
        self,
        store: FakeStore | None = None,
        tables: dict[type[AggregateRoot], FakeTable] | None = None,
        read_ports: dict[type[Any], Callable[[UnitOfWork], object]] | None = None,
    ) -> None:
        self.store = store or FakeStore()
        self._tables, self._read_ports = tables, read_ports

    def __call__(self, context: MessageContext) -> FakeUnitOfWork:
        return FakeUnitOfWork(context, self.store, self._tables, self._read_ports)
