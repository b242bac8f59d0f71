"""Rebuilding a projection from the log into a fresh generation of its tables, then swapping
it in, while the live generation keeps serving reads and taking events.

The swap happens in one transaction that holds the handler's state row (live applies
hold it shared): it replays what the log gained meanwhile, up to the head it read
under that lock, then makes the new generation live and moves the mark to that head
(every event up to it is in the new tables). Later deliveries of those events find
the new generation's cursors past them and change nothing.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from worker.ops.check.engine import NoProgress, Progress
from worker.persistence.sql import dialect_sql
from worker.readside import log
from worker.readside.declarations import Projection
from worker.readside.read_model import ReadModel, live_generation
from worker.readside.versions import apply_in_order, cursor_name

BATCH = 500
_CLAIM = (
    "UPDATE handler_state SET rebuild_owner = ?, rebuild_started_at = ? "
    "WHERE name = ? AND (rebuild_owner IS NULL OR rebuild_owner = ?)"
)
_RELEASE = "UPDATE handler_state SET rebuild_owner = NULL WHERE name = ? AND rebuild_owner = ?"
_OWNER = "SELECT rebuild_owner, rebuild_started_at, position FROM handler_state WHERE name = ?"
_SWAP = "UPDATE handler_state SET generation = ?, position = ?, rebuild_owner = NULL WHERE name = ?"


class RebuildRefused(Exception):
    """Another rebuild of the projection is running, or it has no state row (migrate)."""


@dataclass(frozen=True)
class RebuildPlan:
    name: str
    live_generation: int
    new_generation: int
    events: int
    head: int


@dataclass(frozen=True)
class Rebuilt:
    plan: RebuildPlan
    applied: int
    #: The log head the new generation was swapped in at.
    swapped_at: int


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _gone(owner: str) -> bool:
    """Whether ``owner`` is a process of this host that has ended (its claim is stale)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def plan(db: BaseDBAsyncClient, projection: Projection) -> RebuildPlan:
    live = await live_generation(db, projection.name)
    head = await log.head(db)
    types = sorted(projection.events)
    query = (
        f"SELECT COUNT(*) AS n FROM event_log WHERE event_type IN ({', '.join('?' * len(types))})"
    )
    _, rows = await db.execute_query(dialect_sql(db, query), types)
    return RebuildPlan(projection.name, live, live + 1, int(rows[0]["n"]), head)


async def _claim(db: BaseDBAsyncClient, name: str, owner: str) -> None:
    _, rows = await db.execute_query(dialect_sql(db, _OWNER), [name])
    if not rows:
        raise RebuildRefused(f"{name} has no state yet: run `python -m worker db migrate`")
    holder = rows[0]["rebuild_owner"]
    stale = holder if holder is not None and _gone(holder) else owner
    params = [owner, datetime.now(UTC), name, stale]
    changed, _ = await db.execute_query(dialect_sql(db, _CLAIM), params)
    if not changed:
        since = rows[0]["rebuild_started_at"]
        raise RebuildRefused(f"a rebuild of {name} is already running ({holder}, since {since})")


async def rebuild(
    projection: Projection, progress: Progress | None = None, owner: str | None = None
) -> Rebuilt:
    """Rebuild ``projection`` from the whole log and swap it in; refuse a second at once."""
    progress = progress or NoProgress()
    owner = owner or this_process()
    db = connections.get("default")
    await _claim(db, projection.name, owner)
    try:
        planned = await plan(db, projection)
        fresh = ReadModel(db, projection, planned.new_generation)
        await fresh.drop_tables()
        await fresh.create_tables()
        cursor = cursor_name(projection.name, planned.new_generation)
        forget = dialect_sql(db, "DELETE FROM projection_cursors WHERE handler = ?")
        await db.execute_query(forget, [cursor])
        progress.start(f"rebuilding {projection.name}", planned.events)
        generation = planned.new_generation
        # Up to the head it planned, then to the head by then (however fast traffic comes,
        # each step ends), then the rest under the swap's lock.
        applied, after = await _replay(projection, generation, 0, planned.head, progress)
        since, after = await _replay(projection, generation, after, await log.head(db), progress)
        applied_late, swapped_at = await _swap(projection, planned, after, progress)
        applied += since
    except BaseException:
        await db.execute_query(dialect_sql(db, _RELEASE), [projection.name, owner])
        raise
    old = ReadModel(db, projection, planned.live_generation)
    await old.drop_tables()
    await db.execute_query(forget, [cursor_name(projection.name, planned.live_generation)])
    return Rebuilt(planned, applied + applied_late, swapped_at)


async def _replay(
    projection: Projection,
    generation: int,
    after: int,
    upto: int | None,
    progress: Progress,
    db: BaseDBAsyncClient | None = None,
) -> tuple[int, int]:
    """Apply the log after ``after`` (up to ``upto``, or while batches come full) to
    ``generation``, a transaction per batch unless ``db`` is one; return (applied, last)."""
    applied = 0
    cursor = cursor_name(projection.name, generation)
    while True:
        reader = db or connections.get("default")
        events = await log.read_from(reader, after, BATCH, projection.events)
        if upto is not None:
            events = [e for e in events if e.position <= upto]
        if not events:
            return applied, after
        if db is None:
            async with in_transaction() as tx:
                for event in events:
                    await apply_in_order(ReadModel(tx, projection, generation), cursor, event)
        else:
            for event in events:
                await apply_in_order(ReadModel(db, projection, generation), cursor, event)
        applied += len(events)
        after = events[-1].position
        progress.advance(len(events))
        if upto is None and len(events) < BATCH:
            return applied, after


async def _swap(
    projection: Projection, planned: RebuildPlan, after: int, progress: Progress
) -> tuple[int, int]:
    async with in_transaction() as tx:
        lock = " FOR UPDATE" if tx.capabilities.dialect == "postgres" else ""
        _, rows = await tx.execute_query(dialect_sql(tx, _OWNER + lock), [projection.name])
        head = await log.head(tx)
        applied, _ = await _replay(projection, planned.new_generation, after, head, progress, tx)
        mark = max(head, int(rows[0]["position"]))
        await tx.execute_query(
            dialect_sql(tx, _SWAP), [planned.new_generation, mark, projection.name]
        )
    return applied, head
