"""The money check, declared by the transfers context: money is neither made nor lost.

It spans two contexts: the accounts' ledger comes through their published read
port (``worker.contexts.accounts.published``), the transfers from this context's
own rows. Its rules: no negative balance; each balance equals what its event
record adds up to; each transfer ended or has a live saga, and its steps moved
the right money; by currency, the balances add up to the outside deposits minus
withdrawals, less what is in flight.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal

from worker.contexts.accounts.published import AccountLedger, read_ledger
from worker.contexts.transfers.checks_facts import FINAL, TransferFacts
from worker.contexts.transfers.checks_sagas import EndedSince, dead_sagas
from worker.contexts.transfers.checks_totals import reconcile
from worker.contexts.transfers.persistence import TransferRow
from worker.contexts.transfers.saga import TRANSFER_SAGA
from worker.ops.check.engine import Afterwards, CheckResult, SagasUnreachable, Snapshot
from worker.persistence.models import OutboxRow


@dataclass(frozen=True)
class MoneyFacts:
    ledger: AccountLedger
    transfers: list[TransferFacts]


async def read_money_facts(snapshot: Snapshot) -> MoneyFacts:
    """The accounts' ledger and every transfer, as of the snapshot."""
    db = snapshot.db
    ledger = await read_ledger(db, snapshot.progress)
    pending = OutboxRow.filter(event_type=TRANSFER_SAGA.started_by, sent_at=None).using_db(db)
    unsent = {row.aggregate_id for row in await pending.only("id", "aggregate_id")}
    transfers = [
        TransferFacts(
            row.id,
            row.from_account_id,
            row.to_account_id,
            Decimal(row.amount),
            row.currency,
            row.state,
            start_pending=row.id in unsent,
            reason=row.reason,
        )
        for row in await TransferRow.all().using_db(db).order_by("id")
    ]
    return MoneyFacts(ledger, transfers)


async def ended_since(transfer_id: str) -> bool:
    """Whether the transfer has ended by now: read afresh, outside the snapshot."""
    row = await TransferRow.get_or_none(id=transfer_id)
    return row is not None and row.state in FINAL


@dataclass(frozen=True)
class MoneyReading:
    facts: MoneyFacts
    ended_since: EndedSince

    async def judge(self, afterwards: Afterwards) -> CheckResult:
        dead: dict[str, str] | None = None  # None: the sagas were not checked
        # Unreachable sagas stay unchecked: `check` says why, once, whichever check asked.
        with suppress(SagasUnreachable):
            if afterwards.sagas is not None:
                dead = await dead_sagas(
                    afterwards.sagas, self.facts.transfers, self.ended_since, afterwards.progress
                )
        return reconcile(self.facts.ledger, self.facts.transfers, dead).result()


@dataclass(frozen=True)
class MoneyCheck:
    """The check as ``check`` runs it; its reads can be swapped for tests' hand-made facts."""

    name: str = "money"
    read_facts: Callable[[Snapshot], Awaitable[MoneyFacts]] = read_money_facts
    ended_since: EndedSince = ended_since

    async def read(self, snapshot: Snapshot) -> MoneyReading:
        return MoneyReading(await self.read_facts(snapshot), self.ended_since)


MONEY_CHECK = MoneyCheck()
