"""Reading what reconciliation compares: one snapshot of the database, then Temporal.

The database is read in one transaction (REPEATABLE READ on PostgreSQL; SQLite's
read transaction is a snapshot too), so a worker still running cannot make the
accounts disagree with their events between two queries. Sagas are looked at
afterwards, so a saga that looks closed is checked against a fresh read of its
transfer (it may have ended since the snapshot).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from worker.contexts.accounts.persistence import AccountRow
from worker.contexts.transfers.checks import FINAL, saga_problem
from worker.contexts.transfers.persistence import TransferRow
from worker.ops.check.facts import (
    DEPOSITED,
    WITHDRAWN,
    AccountFacts,
    EventFacts,
    TransferFacts,
    Violation,
)
from worker.persistence.models import OutboxRow
from workflows.transfers.shared import workflow_id

BATCH = 5000
PROBES_AT_ONCE = 16
DESCRIBE_TIMEOUT = timedelta(seconds=10)
TRANSFER_REQUESTED = "transfers.TransferRequested"


class Progress(Protocol):
    """Where a long read reports how far it got (a progress bar, or nothing)."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


class NoProgress:
    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


@dataclass(frozen=True)
class Snapshot:
    accounts: list[AccountFacts]
    events: list[EventFacts]
    transfers: list[TransferFacts]
    #: Event rows whose payload cannot be read (they count as moving no money).
    unreadable: list[Violation]


def _amount(event_type: str, payload: str) -> Decimal | None:
    if event_type not in (DEPOSITED, WITHDRAWN):
        return None
    return Decimal(json.loads(payload)["amount"])


async def _events(
    db: BaseDBAsyncClient, progress: Progress
) -> tuple[list[EventFacts], list[Violation]]:
    rows = OutboxRow.filter(aggregate_type="accounts").using_db(db)
    progress.start("reading the event record", await rows.count())
    events: list[EventFacts] = []
    unreadable: list[Violation] = []
    last = 0
    while True:
        batch = await rows.filter(id__gt=last).order_by("id").limit(BATCH)
        for row in batch:
            try:
                amount = _amount(row.event_type, row.payload)
            except (ValueError, KeyError, TypeError, ArithmeticError) as error:
                problem = f"version {row.aggregate_version}: unreadable payload ({error!r})"
                unreadable.append(Violation("event_record", row.aggregate_id, problem))
                amount = None
            event = EventFacts(
                row.aggregate_id, row.aggregate_version, row.event_type, amount, row.causation_id
            )
            events.append(event)
        progress.advance(len(batch))
        if len(batch) < BATCH:
            return events, unreadable
        last = batch[-1].id


async def _transfers(db: BaseDBAsyncClient) -> list[TransferFacts]:
    pending = OutboxRow.filter(event_type=TRANSFER_REQUESTED, sent_at=None).using_db(db)
    unsent = {row.aggregate_id for row in await pending.only("id", "aggregate_id")}
    return [
        TransferFacts(
            row.id,
            row.from_account_id,
            row.to_account_id,
            Decimal(row.amount),
            row.currency,
            row.state,
            row.id in unsent,
        )
        for row in await TransferRow.all().using_db(db).order_by("id")
    ]


async def read_snapshot(progress: Progress | None = None) -> Snapshot:
    """Accounts, their event record and transfers, as of one moment (tortoise connected)."""
    async with in_transaction() as db:
        if db.capabilities.dialect == "postgres":
            await db.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        accounts = [
            AccountFacts(row.id, row.currency, Decimal(row.balance), row.version)
            for row in await AccountRow.all().using_db(db).order_by("id")
        ]
        events, unreadable = await _events(db, progress or NoProgress())
        return Snapshot(accounts, events, await _transfers(db), unreadable)


async def _execution(client: Client, transfer_id: str) -> str | None:
    """The status of the transfer's workflow (``running``, ``terminated``…), None if none."""
    handle = client.get_workflow_handle(workflow_id(transfer_id))
    try:
        description = await handle.describe(rpc_timeout=DESCRIBE_TIMEOUT)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return description.status.name.lower() if description.status else "unknown"


async def _ended_since(transfer_id: str) -> bool:
    row = await TransferRow.get_or_none(id=transfer_id)
    return row is not None and row.state in FINAL


async def dead_sagas(
    client: Client, transfers: list[TransferFacts], progress: Progress | None = None
) -> dict[str, str]:
    """Why each unfinished transfer has no live saga, by transfer id (live ones are absent)."""
    unfinished = [t for t in transfers if t.state not in FINAL]
    progress = progress or NoProgress()
    progress.start("looking at sagas", len(unfinished))
    limit = asyncio.Semaphore(PROBES_AT_ONCE)

    async def probe(transfer: TransferFacts) -> str | None:
        async with limit:
            problem = saga_problem(transfer, await _execution(client, transfer.transfer_id))
            if problem is not None and await _ended_since(transfer.transfer_id):
                problem = None  # it ended between the snapshot and this look
            progress.advance(1)
            return problem

    problems = await asyncio.gather(*(probe(t) for t in unfinished))
    return {t.transfer_id: p for t, p in zip(unfinished, problems, strict=True) if p is not None}
