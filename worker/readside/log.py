"""The event log: every committed event, with a gap-free position, kept.

Positions are given by the outbox relay, under the lock that already makes it the
only relay, to the committed outbox rows that have none, in the order of their ids,
and committed before any of them is published. A row that commits late (a lower id
than rows already logged) gets the next position when the relay next looks: no
position is ever skipped, none is given twice, and within one aggregate positions
follow versions (version n+1 cannot commit before version n has).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from worker.persistence.sql import dialect_sql
from worker.readside.declarations import LoggedEvent

COLUMNS = (
    "position, event_id, event_type, aggregate_type, aggregate_id, aggregate_version, "
    "payload, correlation_id, causation_id, occurred_at"
)
_UNLOGGED = (
    "SELECT id, event_id, event_type, aggregate_type, aggregate_id, aggregate_version, "
    "payload, correlation_id, causation_id, created_at FROM outbox "
    "WHERE position IS NULL ORDER BY id LIMIT ?"
)
_INSERT = (
    "INSERT INTO event_log (position, event_id, event_type, aggregate_type, aggregate_id, "
    "aggregate_version, payload, correlation_id, causation_id, occurred_at, logged_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


async def head(db: BaseDBAsyncClient) -> int:
    """The highest position given (0 for an empty log)."""
    _, rows = await db.execute_query("SELECT COALESCE(MAX(position), 0) AS head FROM event_log")
    return int(rows[0]["head"])


async def sequence_pending(db: BaseDBAsyncClient, batch_size: int) -> int:
    """Log up to ``batch_size`` committed outbox rows without a position; return how many.

    The caller holds the relay's lock and commits right after: the positions are
    durable before anything carrying them is published.
    """
    _, rows = await db.execute_query(dialect_sql(db, _UNLOGGED), [batch_size])
    if not rows:
        return 0
    first = await head(db) + 1
    now = datetime.now(UTC)
    logged = [
        [
            first + offset,
            row["event_id"],
            row["event_type"],
            row["aggregate_type"],
            row["aggregate_id"],
            row["aggregate_version"],
            row["payload"],
            row["correlation_id"],
            row["causation_id"],
            _as_utc(row["created_at"]),
            now,
        ]
        for offset, row in enumerate(rows)
    ]
    await db.execute_many(dialect_sql(db, _INSERT), logged)
    await db.execute_many(
        dialect_sql(db, "UPDATE outbox SET position = ? WHERE id = ?"),
        [[first + offset, row["id"]] for offset, row in enumerate(rows)],
    )
    return len(rows)


def _as_utc(value: Any) -> Any:
    if isinstance(value, str):  # SQLite hands back text
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def logged_event(row: dict[str, Any]) -> LoggedEvent:
    payload = json.loads(row["payload"])
    occurred = payload.get("occurred_at") if isinstance(payload, dict) else None
    return LoggedEvent(
        position=int(row["position"]),
        event_id=row["event_id"],
        event_type=row["event_type"],
        aggregate_type=row["aggregate_type"],
        aggregate_id=row["aggregate_id"],
        aggregate_version=int(row["aggregate_version"]),
        payload=payload if isinstance(payload, dict) else {},
        occurred_at=str(occurred or _as_utc(row["occurred_at"]).isoformat()),
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
    )


async def by_id(db: BaseDBAsyncClient, event_id: str) -> LoggedEvent | None:
    query = f"SELECT {COLUMNS} FROM event_log WHERE event_id = ?"
    _, rows = await db.execute_query(dialect_sql(db, query), [event_id])
    return logged_event(dict(rows[0])) if rows else None


async def stream(
    db: BaseDBAsyncClient, aggregate_type: str, aggregate_id: str, after: int, upto: int
) -> list[LoggedEvent]:
    """One aggregate's events with ``after < version <= upto``, in version order."""
    query = (
        f"SELECT {COLUMNS} FROM event_log WHERE aggregate_type = ? AND aggregate_id = ? "
        "AND aggregate_version > ? AND aggregate_version <= ? ORDER BY aggregate_version"
    )
    params = [aggregate_type, aggregate_id, after, upto]
    _, rows = await db.execute_query(dialect_sql(db, query), params)
    return [logged_event(dict(row)) for row in rows]


async def read_from(
    db: BaseDBAsyncClient, after: int, limit: int, types: Collection[str] | None = None
) -> list[LoggedEvent]:
    """Up to ``limit`` events after position ``after`` (of ``types`` only), by position."""
    kinds = sorted(types or ())
    where = f" AND event_type IN ({', '.join('?' * len(kinds))})" if kinds else ""
    query = f"SELECT {COLUMNS} FROM event_log WHERE position > ?{where} ORDER BY position LIMIT ?"
    _, rows = await db.execute_query(dialect_sql(db, query), [after, *kinds, limit])
    return [logged_event(dict(row)) for row in rows]


_KEPT = (
    "SELECT position AS n, aggregate_id, aggregate_version, event_type, payload, causation_id "
    "FROM event_log WHERE aggregate_type = ? AND position > ? ORDER BY position LIMIT ?"
)
_UNLOGGED_OF = (
    "SELECT id AS n, aggregate_id, aggregate_version, event_type, payload, causation_id "
    "FROM outbox WHERE aggregate_type = ? AND position IS NULL AND id > ? ORDER BY id LIMIT ?"
)


async def count_committed(db: BaseDBAsyncClient, aggregate_type: str) -> int:
    """How many events of ``aggregate_type`` have committed (logged, or not logged yet)."""
    total = 0
    for source in ("event_log WHERE", "outbox WHERE position IS NULL AND"):
        query = f"SELECT COUNT(*) AS n FROM {source} aggregate_type = ?"
        _, rows = await db.execute_query(dialect_sql(db, query), [aggregate_type])
        total += int(rows[0]["n"])
    return total


async def committed(
    db: BaseDBAsyncClient, aggregate_type: str, batch_size: int
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every committed event of ``aggregate_type``, in batches: the log's, then those the
    relay has not logged yet (still only in the outbox). Retention never sweeps the log,
    so a check reading this sees each aggregate's whole record."""
    for query in (_KEPT, _UNLOGGED_OF):
        last = 0
        while True:
            params = [aggregate_type, last, batch_size]
            _, rows = await db.execute_query(dialect_sql(db, query), params)
            if rows:
                yield [dict(row) for row in rows]
                last = int(rows[-1]["n"])
            if len(rows) < batch_size:
                break
