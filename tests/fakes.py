"""Hand-written in-memory fakes, injected where the real adapters plug in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from domain.accounts import Account, AccountStatus
from domain.errors import ConcurrencyConflict
from domain.money import Money
from domain.shared import AggregateRoot, DomainEvent
from domain.transfers import Transfer, TransferState
from worker.outcomes import Outcome
from worker.unit_of_work import DuplicateMessage, MessageContext, UnitOfWork

A = TypeVar("A", bound=AggregateRoot)


@dataclass
class FakeStore:
    """What the fake "database" holds: committed rows only."""

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    inbox: dict[str, Outcome] = field(default_factory=dict)
    outbox: list[tuple[DomainEvent, MessageContext]] = field(default_factory=list)
    commits: int = 0


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


class FakeUnitOfWork(UnitOfWork):
    """Commits to the store all at once, or not at all, like a transaction."""

    accounts: FakeRepository[Account]
    transfers: FakeRepository[Transfer]

    def __init__(self, context: MessageContext, store: FakeStore) -> None:
        super().__init__(context)
        self.store = store
        self.committed = False
        self.discard_changes()

    async def recorded_outcome(self) -> Outcome | None:
        return self.store.inbox.get(self.context.message_id)

    async def outcomes_with_prefix(self, prefix: str) -> dict[str, Outcome]:
        return {k: v for k, v in self.store.inbox.items() if k.startswith(prefix)}

    def discard_changes(self) -> None:
        self.accounts = FakeRepository(self.store.accounts, account_row, account_from_row)
        self.transfers = FakeRepository(self.store.transfers, transfer_row, transfer_from_row)

    async def commit(self, outcome: Outcome) -> None:
        if outcome.message_id in self.store.inbox:
            raise DuplicateMessage(outcome.message_id)
        staged_accounts = self.accounts.staged_rows()
        staged_transfers = self.transfers.staged_rows()
        aggregates = [*self.accounts.seen.values(), *self.transfers.seen.values()]
        events = [e for a in aggregates for e in a.collect_events()]
        self.store.accounts.update(staged_accounts)
        self.store.transfers.update(staged_transfers)
        self.store.inbox[outcome.message_id] = outcome
        self.store.outbox.extend((event, self.context) for event in events)
        self.store.commits += 1
        self.events_committed = len(events)
        self.committed = True

    async def rollback(self) -> None:
        pass


class FakeUnitOfWorkFactory:
    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store or FakeStore()

    def __call__(self, context: MessageContext) -> FakeUnitOfWork:
        return FakeUnitOfWork(context, self.store)
