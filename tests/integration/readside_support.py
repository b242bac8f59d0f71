"""What the read side's integration tests share: events of a test's own committed to the
outbox and logged by the real relay, and small projections and policies over them.

Each test takes an aggregate type of its own (:func:`tally_kind`), so the events other
tests of the module logged are never its handlers' concern.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.transactions import in_transaction

from tests.wiring import CONTEXTS
from worker.bus.commands import Command
from worker.config import Settings
from worker.messaging.outbox_relay import OutboxRelay
from worker.persistence import database, sql
from worker.persistence.models import OutboxRow
from worker.readside import log
from worker.readside.declarations import LoggedEvent, Policy, Projection
from worker.readside.read_model import ReadModel, open_read_model


def unique(label: str) -> str:
    """``label`` with a suffix of its own: a handler name, an aggregate type."""
    return f"{label}_{uuid.uuid4().hex[:8]}"


def is_postgres() -> bool:
    dialect: str = connections.get("default").capabilities.dialect
    return dialect == "postgres"


def relay() -> OutboxRelay:
    return OutboxRelay(batch_size=1000, poll_interval=0.1, is_postgres=is_postgres())


@dataclass(frozen=True)
class TallyKind:
    """An aggregate type of one test: its events are ``<type>.Tallied`` and ``<type>.Reset``."""

    aggregate_type: str

    @property
    def tallied(self) -> str:
        return f"{self.aggregate_type}.Tallied"

    @property
    def reset(self) -> str:
        return f"{self.aggregate_type}.Reset"


def tally_kind() -> TallyKind:
    return TallyKind(unique("tally"))


def outbox_row(
    event_type: str,
    aggregate_id: str,
    version: int,
    occurred_at: datetime | None = None,
    **payload: Any,
) -> dict[str, Any]:
    """An outbox row's columns, as ``outbox_columns`` writes them for a domain event."""
    occurred = occurred_at or datetime.now(UTC)
    body = {**payload, "occurred_at": occurred.isoformat()}
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "aggregate_type": event_type.split(".", 1)[0],
        "aggregate_id": aggregate_id,
        "aggregate_version": version,
        "payload": json.dumps(body, separators=(",", ":")),
        "correlation_id": "corr-readside",
        "causation_id": f"cmd-{uuid.uuid4().hex[:8]}",
        "created_at": occurred,
    }


async def commit_outbox(rows: Sequence[dict[str, Any]]) -> None:
    """Commit ``rows`` to the outbox in one transaction, as a unit of work does."""
    async with in_transaction() as db:
        await sql.insert(db, OutboxRow, list(rows))


async def log_everything() -> int:
    """Run the relay's logging until nothing is left; return how many it logged."""
    total = 0
    while logged := await relay().log_pending():
        total += logged
    return total


async def logged(rows: Sequence[dict[str, Any]]) -> list[LoggedEvent]:
    """Commit ``rows``, log them, and return them as the log has them (in ``rows``' order)."""
    await commit_outbox(rows)
    await log_everything()
    db = connections.get("default")
    found = [await log.by_id(db, row["event_id"]) for row in rows]
    assert all(event is not None for event in found)
    return [event for event in found if event is not None]


async def log_positions() -> list[int]:
    _, rows = await connections.get("default").execute_query(
        "SELECT position FROM event_log ORDER BY position"
    )
    return [int(row["position"]) for row in rows]


ENTRIES_DDL = (
    "CREATE TABLE {table} (tally_id TEXT NOT NULL, seq INTEGER NOT NULL, "
    "version INTEGER NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (tally_id, seq))",
)


def entries_projection(
    name: str, events: Sequence[str], *, fails_on: Collection[int] = ()
) -> Projection:
    """A projection that appends every event to its table ``<name>_entries``, numbering
    them in the order applied (so a wrong order or a second application shows); it
    raises on an event whose payload ``amount`` is in ``fails_on`` (the test may change it)."""
    table = f"{name}_entries"

    async def apply(event: LoggedEvent, model: ReadModel) -> None:
        if event.payload.get("amount") in fails_on:
            raise RuntimeError(f"the projection fails on amount {event.payload['amount']}")
        count = f"SELECT COUNT(*) AS n FROM {{{table}}} WHERE tally_id = ?"
        [found] = await model.fetch(count, [event.aggregate_id])
        insert = f"INSERT INTO {{{table}}} (tally_id, seq, version, event_id) VALUES (?, ?, ?, ?)"
        params = [event.aggregate_id, int(found["n"]) + 1, event.aggregate_version, event.event_id]
        await model.execute(insert, params)

    return Projection(name=name, events=tuple(events), tables={table: ENTRIES_DDL}, apply=apply)


async def entries(projection: Projection) -> list[tuple[str, int, int, str]]:
    """(tally id, seq, version, event id) of the live generation, in order."""
    model = await open_read_model(projection)
    [table] = projection.tables
    rows = await model.fetch(f"SELECT * FROM {{{table}}} ORDER BY tally_id, seq")
    return [(r["tally_id"], int(r["seq"]), int(r["version"]), r["event_id"]) for r in rows]


class RaiseAlert(Command):
    """A test command a policy issues: not registered anywhere, never sent."""

    tally_id: str
    level: int

    @property
    def aggregate_id(self) -> str:
        return self.tally_id


def alerting_policy(name: str, events: Sequence[str], alerts: int = 2) -> Policy:
    """A policy that raises ``alerts`` alerts (levels 1..n) for each event."""

    def decide(event: LoggedEvent) -> Sequence[Command]:
        return [RaiseAlert(tally_id=event.aggregate_id, level=n) for n in range(1, alerts + 1)]

    return Policy(name=name, events=tuple(events), decide=decide)


async def project(projection: Projection, generation: int, events: list[LoggedEvent]) -> ReadModel:
    """``events`` applied by ``projection`` to a fresh ``generation``, each in a transaction
    of its own (what its handler does, without the framework's ordering around it)."""
    model = ReadModel(connections.get("default"), projection, generation)
    await model.create_tables()
    for event in events:
        async with in_transaction() as tx:
            await projection.apply(event, ReadModel(tx, projection, generation))
    return model


def in_database(url: str, work: Callable[[], Awaitable[object]]) -> None:
    """Run ``work`` with tortoise connected to ``url``, from a test without a running loop
    (a CLI test between two CLI calls)."""

    async def connected() -> None:
        await database.connect(Settings(database_url=url), CONTEXTS)
        try:
            await work()
        finally:
            await database.close()
            EXECUTOR_CACHE.clear()  # tortoise caches SQL per connection name, by dialect

    asyncio.run(connected())
