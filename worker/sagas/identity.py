"""Who started a saga's run: this database's identity and the request, kept in its memo.

A saga's workflow id is the business id, and Temporal remembers it longer than a
database may live: a database recreated or restored against the same namespace
asks again for ids that already have a run. The memo says whether that run was
started for this request, so such a run is never taken for this request's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from temporalio.client import WorkflowExecution
from tortoise import connections

from worker.persistence.sql import dialect_sql

#: The ``worker_secret`` row of this database's identity, next to the retry seal's key.
DATABASE_IDENTITY = "database-identity"
MEMO_DATABASE = "sagaDatabase"
MEMO_REQUEST = "sagaRequest"


async def database_identity() -> str:
    """This database's identity: made by the first process that asks, then read by all."""
    db = connections.get("default")
    await db.execute_query(
        dialect_sql(
            db,
            "INSERT INTO worker_secret (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        ),
        [DATABASE_IDENTITY, secrets.token_hex(8)],
    )
    _, rows = await db.execute_query(
        dialect_sql(db, "SELECT value FROM worker_secret WHERE name = ?"), [DATABASE_IDENTITY]
    )
    return str(rows[0]["value"])


async def read_identity() -> str | None:
    """This database's identity if a worker made it already; readers never write it
    (a read-only role, or a CLI beside a worker holding SQLite's write lock)."""
    db = connections.get("default")
    _, rows = await db.execute_query(
        dialect_sql(db, "SELECT value FROM worker_secret WHERE name = ?"), [DATABASE_IDENTITY]
    )
    return str(rows[0]["value"]) if rows else None


@dataclass(frozen=True)
class Origin:
    """What a run's memo says of who started it; ``None`` fields: a run from before memos."""

    database: str | None
    #: The id of the event whose outbox row requested the run.
    request: str | None

    def memo(self) -> dict[str, Any]:
        return {MEMO_DATABASE: self.database, MEMO_REQUEST: self.request}

    @property
    def known(self) -> bool:
        return self.request is not None


async def origin_of(execution: WorkflowExecution) -> Origin:
    memo = await execution.memo()
    database, request = memo.get(MEMO_DATABASE), memo.get(MEMO_REQUEST)
    return Origin(
        database if isinstance(database, str) else None,
        request if isinstance(request, str) else None,
    )


def started_at(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def foreign_run_reason(execution: WorkflowExecution, origin: Origin, ours: str) -> str:
    """Why a run is not this request's, naming it: workflow id, run id, start time, origin."""
    if origin.database is None:
        by = "from before saga memos, with another input"
    elif origin.database == ours:
        by = "by this database, for another request (was it restored?)"
    else:
        by = f"by database {origin.database} (this one is {ours})"
    return (
        f"workflow {execution.id} belongs to another request: run {execution.run_id}, "
        f"started {started_at(execution.start_time)} {by}; nothing was done for this one"
    )


def is_ours(origin: Origin, ours: str | None, request: str | None) -> bool:
    """Whether a run was started for this database's request ``request`` (``None``: unknown).

    A run from before memos cannot tell: it is taken as ours, as it always was. A
    database without an identity (``ours`` is None) never started a run.
    """
    if origin.request is not None and request is not None:
        return origin.request == request
    if origin.database is not None:
        return origin.database == ours
    return True
