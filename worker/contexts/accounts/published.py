"""What the accounts context lets other contexts read: its ledger, and its verdict on it.

The only module of this context another context may import. A check of another
context reads the accounts here, inside the check engine's snapshot, never
through the accounts' rows: the ledger is every account's balance and version,
and its event record (the event log, plus what the relay has not logged yet).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from tortoise.backends.base.client import BaseDBAsyncClient

from domain.accounts.account import Account
from worker.bus.unit_of_work import UnitOfWork
from worker.contexts.accounts.checks import (
    DEPOSITED,
    WITHDRAWN,
    AccountFacts,
    AccountsVerdict,
    EventFacts,
    check_accounts,
)
from worker.contexts.accounts.persistence import AccountRow
from worker.ops.check.engine import NoProgress, Progress
from worker.ops.check.facts import Violation
from worker.readside.log import committed, count_committed

__all__ = [
    "DEPOSITED",
    "WITHDRAWN",
    "AccountDirectory",
    "AccountFacts",
    "AccountLedger",
    "AccountsVerdict",
    "EventFacts",
    "read_ledger",
]

BATCH = 5000


@dataclass(frozen=True)
class AccountLedger:
    accounts: list[AccountFacts]
    events: list[EventFacts]
    #: Event rows whose payload cannot be read (they count as moving no money).
    unreadable: list[Violation]

    def verdict(self) -> AccountsVerdict:
        """The accounts' own rules over it: which accounts are sound, verified, not verifiable."""
        return check_accounts(self.accounts, self.events)


def _amount(event_type: str, payload: str) -> Decimal | None:
    if event_type not in (DEPOSITED, WITHDRAWN):
        return None
    return Decimal(json.loads(payload)["amount"])


async def _events(
    db: BaseDBAsyncClient, progress: Progress
) -> tuple[list[EventFacts], list[Violation]]:
    progress.start("reading the event record", await count_committed(db, "accounts"))
    events: list[EventFacts] = []
    unreadable: list[Violation] = []
    async for batch in committed(db, "accounts", BATCH):
        for row in batch:
            try:
                amount = _amount(row["event_type"], row["payload"])
            except (ValueError, KeyError, TypeError, ArithmeticError) as error:
                problem = f"version {row['aggregate_version']}: unreadable payload ({error!r})"
                unreadable.append(Violation("event_record", row["aggregate_id"], problem))
                amount = None
            events.append(
                EventFacts(
                    row["aggregate_id"],
                    int(row["aggregate_version"]),
                    row["event_type"],
                    amount,
                    row["causation_id"],
                )
            )
        progress.advance(len(batch))
    return events, unreadable


async def read_ledger(db: BaseDBAsyncClient, progress: Progress | None = None) -> AccountLedger:
    """Every account and its event record, through ``db`` (the check engine's snapshot)."""
    accounts = [
        AccountFacts(row.id, row.currency, Decimal(row.balance), row.version)
        for row in await AccountRow.all().using_db(db).order_by("id")
    ]
    events, unreadable = await _events(db, progress or NoProgress())
    return AccountLedger(accounts, events, unreadable)


class AccountDirectory:
    """A read port for other contexts' handlers: what they may know of an account,
    read in their own unit of work's transaction (``uow.read_port(AccountDirectory)``)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._accounts = uow.repository(Account)

    async def currency_of(self, account_id: str) -> str | None:
        """The account's currency, or None when there is no such account."""
        account = await self._accounts.get(account_id)
        return None if account is None else str(account.currency)
