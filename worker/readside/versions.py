"""A projection's events in version order, per aggregate, through a cursor it keeps."""

from __future__ import annotations

from worker.persistence.sql import dialect_sql
from worker.readside import log
from worker.readside.declarations import LoggedEvent
from worker.readside.read_model import ReadModel

_OPEN = (
    "INSERT INTO projection_cursors (handler, aggregate_type, aggregate_id, version) "
    "VALUES (?, ?, ?, 0) ON CONFLICT (handler, aggregate_type, aggregate_id) DO NOTHING"
)
_READ = (
    "SELECT version FROM projection_cursors "
    "WHERE handler = ? AND aggregate_type = ? AND aggregate_id = ?"
)
_MOVE = (
    "UPDATE projection_cursors SET version = ? "
    "WHERE handler = ? AND aggregate_type = ? AND aggregate_id = ?"
)


def cursor_name(projection: str, generation: int) -> str:
    return f"{projection}@{generation}"


async def apply_in_order(model: ReadModel, cursor: str, event: LoggedEvent) -> list[LoggedEvent]:
    """Apply ``event`` after whatever of its aggregate's earlier events the cursor has not
    seen (read from the log); return what was applied, in order (empty: nothing new).

    The cursor row is locked (on PostgreSQL) for the transaction: two deliveries of one
    aggregate, in two processes, apply one after the other.
    """
    db = model.db
    key = [cursor, event.aggregate_type, event.aggregate_id]
    await db.execute_query(dialect_sql(db, _OPEN), key)
    lock = " FOR UPDATE" if db.capabilities.dialect == "postgres" else ""
    _, rows = await db.execute_query(dialect_sql(db, _READ + lock), key)
    seen = int(rows[0]["version"])
    if event.aggregate_version <= seen:
        return []
    types = model.projection.events
    if event.aggregate_version == seen + 1:
        pending = [event]
    else:
        pending = await log.stream(
            db, event.aggregate_type, event.aggregate_id, seen, event.aggregate_version
        )
    applied = [e for e in pending if e.event_type in types]
    for earlier in applied:
        await model.projection.apply(earlier, model)
    await db.execute_query(dialect_sql(db, _MOVE), [event.aggregate_version, *key])
    return applied
