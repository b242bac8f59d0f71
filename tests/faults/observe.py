"""What the checker reads from the scenario's database: inbox, events, balances, transfers."""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

import aio_pika
import asyncpg

#: What reading raises while a server is away (or still starting).
UNREACHABLE = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    aio_pika.exceptions.AMQPError,
    subprocess.CalledProcessError,  # rabbitmqctl, while the broker is away
)


@dataclass(frozen=True)
class Event:
    event_id: str
    type: str
    aggregate_id: str
    version: int
    causation_id: str | None
    amount: Decimal | None
    sent: bool


@dataclass(frozen=True)
class TransferRow:
    state: str
    amount: Decimal
    source: str
    target: str


@dataclass
class Snapshot:
    """The database at one moment: inbox outcomes, events, balances, transfers."""

    inbox: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    balances: dict[str, tuple[Decimal, int]] = field(default_factory=dict)
    transfers: dict[str, TransferRow] = field(default_factory=dict)

    @cached_property
    def effects(self) -> dict[str, list[Event]]:
        """Events by the message id that caused them."""
        found: defaultdict[str, list[Event]] = defaultdict(list)
        for event in self.events:
            if event.causation_id is not None:
                found[event.causation_id].append(event)
        return found

    @property
    def unsent(self) -> int:
        return sum(not e.sent for e in self.events)


def _event(row: asyncpg.Record) -> Event:
    amount = json.loads(row["payload"]).get("amount")
    return Event(
        event_id=row["event_id"],
        type=row["event_type"],
        aggregate_id=row["aggregate_id"],
        version=row["aggregate_version"],
        causation_id=row["causation_id"],
        amount=Decimal(amount) if amount is not None else None,
        sent=row["sent_at"] is not None,
    )


async def read_database(url: str) -> Snapshot:
    connection = await asyncpg.connect(url)
    try:
        inbox = await connection.fetch("SELECT message_id, status, error_code FROM inbox")
        events = await connection.fetch(
            "SELECT event_id, event_type, aggregate_id, aggregate_version, causation_id,"
            " payload, sent_at FROM outbox ORDER BY id"
        )
        accounts = await connection.fetch("SELECT id, balance, version FROM accounts")
        transfers = await connection.fetch(
            "SELECT id, state, amount, from_account_id, to_account_id FROM transfers"
        )
    finally:
        await connection.close()
    return Snapshot(
        inbox={r["message_id"]: (r["status"], r["error_code"]) for r in inbox},
        events=[_event(r) for r in events],
        balances={r["id"]: (r["balance"], r["version"]) for r in accounts},
        transfers={
            r["id"]: TransferRow(r["state"], r["amount"], r["from_account_id"], r["to_account_id"])
            for r in transfers
        },
    )
