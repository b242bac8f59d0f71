"""How far each handler has come: its low-water mark, against the log's head.

The mark is measured against the log, never against what the handler saw last: a
handler that stops applying keeps its mark while the head moves on, so its lag grows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from worker.persistence.sql import dialect_sql
from worker.readside import log
from worker.readside.declarations import Subscription

_ENSURE = (
    "INSERT INTO handler_state (name, kind, generation, position, started_position) "
    "VALUES (?, ?, 1, ?, ?) ON CONFLICT (name) DO NOTHING"
)
_STATE = "SELECT * FROM handler_state WHERE name = ?"


def unapplied_sql(types: Collection[str]) -> str:
    marks = ", ".join("?" * len(types))
    return (
        f"FROM event_log l WHERE l.position > ? AND l.position <= ? AND l.event_type IN ({marks}) "
        "AND NOT EXISTS (SELECT 1 FROM handled_events h "
        "WHERE h.handler = ? AND h.event_id = l.event_id)"
    )


async def ensure_states(db: BaseDBAsyncClient, subscriptions: Sequence[Subscription]) -> None:
    """A state row per handler; a policy's starts at the log's head (it starts at "now")."""
    now = await log.head(db)
    for s in subscriptions:
        start = now if s.kind == "policy" else 0
        await db.execute_query(dialect_sql(db, _ENSURE), [s.name, s.kind, start, start])


@dataclass(frozen=True)
class Standing:
    """One handler's figures, as ``projections list`` shows them."""

    name: str
    kind: str
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    #: The oldest unapplied event's position (None: none), and the state row.
    next_position: int | None
    row: dict[str, Any]


async def standing(
    db: BaseDBAsyncClient, subscription: Subscription, *, advance: bool = False
) -> Standing:
    """Where the handler stands now; with ``advance`` (its keeper), the stored mark moves
    up to the computed one (readers only read)."""
    _, rows = await db.execute_query(dialect_sql(db, _STATE), [subscription.name])
    row = dict(rows[0]) if rows else {"position": 0}
    stored = int(row["position"])
    head = await log.head(db)
    types = sorted(subscription.events)
    params = [stored, head, *types, subscription.name]
    query = f"SELECT MIN(l.position) AS gap, COUNT(*) AS lag {unapplied_sql(types)}"
    _, found = await db.execute_query(dialect_sql(db, query), params)
    gap = found[0]["gap"]
    lag_events = int(found[0]["lag"])
    mark = head if gap is None else int(gap) - 1
    lag_seconds = 0.0
    if gap is not None:
        oldest = await log.read_from(db, int(gap) - 1, 1)
        if oldest:
            at = datetime.fromisoformat(oldest[0].occurred_at)
            lag_seconds = max(0.0, (datetime.now(UTC) - at).total_seconds())
    if advance and mark > stored:
        update = "UPDATE handler_state SET position = ? WHERE name = ? AND position < ?"
        await db.execute_query(dialect_sql(db, update), [mark, subscription.name, mark])
    return Standing(
        subscription.name,
        subscription.kind,
        max(mark, stored),
        head,
        lag_events,
        round(lag_seconds, 3),
        None if gap is None else int(gap),
        row,
    )


async def wait_until_applied(
    subscription: Subscription, position: int, seconds: float, interval: float = 0.05
) -> bool:
    """Read-your-writes: wait until ``subscription`` has applied every event of its types
    up to ``position``; False if ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    db = connections.get("default")
    while True:
        if (await standing(db, subscription)).position >= position:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))


async def position_caused_by(db: BaseDBAsyncClient, message_id: str) -> int | None:
    """The highest log position of the events a command (by message id) caused, once the
    relay has logged them (None: none yet, or it caused none): what a caller passes to
    :func:`wait_until_applied` to read its own write."""
    query = "SELECT MAX(position) AS last FROM event_log WHERE causation_id = ?"
    _, rows = await db.execute_query(dialect_sql(db, query), [message_id])
    last = rows[0]["last"]
    return None if last is None else int(last)
