"""Hand-written in-memory fakes, injected where the real adapters plug in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.accounts import Account, AccountStatus
from domain.errors import ConcurrencyConflict
from domain.money import Money
from domain.shared import DomainEvent
from worker.outcomes import Outcome
from worker.unit_of_work import DuplicateMessage, MessageContext, UnitOfWork


@dataclass
class FakeStore:
    """What the fake "database" holds: committed rows only."""

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    inbox: dict[str, Outcome] = field(default_factory=dict)
    outbox: list[tuple[DomainEvent, MessageContext]] = field(default_factory=list)
    commits: int = 0


def _row(account: Account, version: int) -> dict[str, Any]:
    return {
        "owner": account.owner,
        "balance": account.balance,
        "status": account.status.value,
        "version": version,
    }


class FakeAccountRepository:
    """Implements the AccountRepository port over a :class:`FakeStore`."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.seen: dict[str, Account] = {}
        self.new: set[str] = set()

    async def get(self, account_id: str) -> Account | None:
        if account_id in self.seen:
            return self.seen[account_id]
        row = self._store.accounts.get(account_id)
        if row is None:
            return None
        account = Account(
            account_id,
            row["owner"],
            Money(row["balance"].amount, row["balance"].currency),
            AccountStatus(row["status"]),
            row["version"],
        )
        self.seen[account_id] = account
        return account

    def add(self, account: Account) -> None:
        self.seen[account.id] = account
        self.new.add(account.id)

    async def list(self) -> list[Account]:
        return [a for a in [await self.get(i) for i in sorted(self._store.accounts)] if a]

    def staged_rows(self) -> dict[str, dict[str, Any]]:
        """The rows a commit would write; raises on a stale version."""
        staged = {}
        for account in self.seen.values():
            if not account.pending_events:
                continue
            stored = self._store.accounts.get(account.id)
            if account.id in self.new and stored is not None:
                raise ConcurrencyConflict(f"account {account.id} was just created")
            if account.id not in self.new and (
                stored is None or stored["version"] != account.version
            ):
                raise ConcurrencyConflict(f"account {account.id} changed")
            staged[account.id] = _row(account, account.version + len(account.pending_events))
        return staged


class FakeUnitOfWork(UnitOfWork):
    """Commits to the store all at once, or not at all, like a transaction."""

    accounts: FakeAccountRepository

    def __init__(self, context: MessageContext, store: FakeStore) -> None:
        super().__init__(context)
        self.store = store
        self.accounts = FakeAccountRepository(store)
        self.committed = False

    async def recorded_outcome(self) -> Outcome | None:
        return self.store.inbox.get(self.context.message_id)

    def discard_changes(self) -> None:
        self.accounts = FakeAccountRepository(self.store)

    async def commit(self, outcome: Outcome) -> None:
        if outcome.message_id in self.store.inbox:
            raise DuplicateMessage(outcome.message_id)
        staged = self.accounts.staged_rows()
        events = [e for a in self.accounts.seen.values() for e in a.collect_events()]
        self.store.accounts.update(staged)
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
