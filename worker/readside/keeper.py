"""Beside each handler's consumer: its heartbeat, its mark, and what its queue has not brought.

The queue is the fast path; the log is the safety net. An event of the handler's
types that has waited in the log for ``catch_up_after`` seconds without being applied
(a handler added after the event was published, a queue purged by hand) is applied
from the log, through the same exactly-once path, so every handler converges on the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from worker.persistence.sql import dialect_sql
from worker.readside.applying import HandlerRuntime
from worker.readside.progress import standing, unapplied_sql

log = logging.getLogger("worker.handlers")

_SEEN = (
    "UPDATE handler_state SET seen_at = ?, last_applied_at = COALESCE(?, last_applied_at) "
    "WHERE name = ?"
)
_ERROR = "UPDATE handler_state SET last_error = ?, last_error_at = ? WHERE name = ?"


async def record_error(db: BaseDBAsyncClient, handler: str, error: BaseException) -> None:
    """Keep the handler's last error for ``projections list`` (best effort)."""
    text = f"{type(error).__name__}: {error}"[:2000]
    with contextlib.suppress(Exception):
        await db.execute_query(dialect_sql(db, _ERROR), [text, datetime.now(UTC), handler])


class HandlerKeeper:
    def __init__(
        self,
        runtime: HandlerRuntime,
        *,
        interval: float = 1.0,
        catch_up_after: float = 3.0,
        batch_size: int = 200,
    ) -> None:
        self._runtime = runtime
        self._interval = interval
        self._catch_up_after = timedelta(seconds=catch_up_after)
        self._batch_size = batch_size
        #: After a catch-up fails, the next waits longer (up to a minute): a handler that
        #: fails on every event is not hammered through the log as well as its queue.
        self._failures = 0
        self._next_catch_up = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception as error:  # the database is away: the next tick tries again
                log.warning("handler %s: keeping its mark failed: %s", self._runtime.name, error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)

    async def tick(self) -> int:
        """Beat, move the mark, catch up from the log; return how many events it applied."""
        db = connections.get("default")
        name = self._runtime.name
        beat = [datetime.now(UTC), self._runtime.last_applied, name]
        await db.execute_query(dialect_sql(db, _SEEN), beat)
        where = await standing(db, self._runtime.subscription, advance=True)
        if where.next_position is None or time.monotonic() < self._next_catch_up:
            return 0
        before = datetime.now(UTC) - self._catch_up_after
        types = sorted(self._runtime.types)
        query = (
            f"SELECT l.event_id {unapplied_sql(types)} AND l.logged_at < ? "
            "ORDER BY l.position LIMIT ?"
        )
        params = [where.position, where.head, *types, name, before, self._batch_size]
        _, rows = await db.execute_query(dialect_sql(db, query), params)
        applied, failed = 0, False
        for row in rows:
            try:
                await self._runtime.apply(row["event_id"])
            except Exception as error:
                if not failed:  # one line a tick: the error is the same for the rest, mostly
                    await record_error(db, name, error)
                    log.warning(
                        "handler %s: catching up %s failed: %s", name, row["event_id"], error
                    )
                failed = True
                continue  # the events of other aggregates behind it go on
            applied += 1
        if failed:
            self._failures += 1
            self._next_catch_up = time.monotonic() + min(60.0, 2.0**self._failures)
        else:
            self._failures = 0
        if applied:
            log.info("handler %s: applied %d events from the log", name, applied)
        return applied
