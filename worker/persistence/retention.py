"""Retention: old inbox rows and sent outbox rows are deleted, a bounded batch at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise import connections

log = logging.getLogger("worker.retention")


@dataclass(frozen=True)
class SweptTable:
    """A table the sweeper trims: rows whose ``column`` is older than the cutoff go."""

    table: str
    key: str
    column: str
    #: An extra condition a row must meet to go (written for both dialects).
    also: str = ""

    def delete_sql(self, postgres: bool) -> str:
        # A NULL ``column`` (an unsent outbox row) never compares as older: it stays.
        if postgres:
            # SKIP LOCKED: a second process sweeping at the same time takes other
            # rows instead of waiting on (or deadlocking with) the first one's.
            return (
                f'DELETE FROM "{self.table}" WHERE "{self.key}" IN ('
                f'SELECT "{self.key}" FROM "{self.table}" WHERE "{self.column}" < $1 {self.also} '
                "LIMIT $2 FOR UPDATE SKIP LOCKED)"
            )
        # SQLite: parameters go through tortoise's adapter (ISO text in UTC, as stored).
        return (
            f'DELETE FROM "{self.table}" WHERE "{self.key}" IN ('
            f'SELECT "{self.key}" FROM "{self.table}" WHERE "{self.column}" < ? {self.also} '
            "LIMIT ?)"
        )


#: A saga's step rows are what its refund decides from: they stay while the
#: transfer has not ended, however long it waits for an operator.
SAGA_STEPS_OF_ENDED_TRANSFERS_ONLY = """
    AND (message_id NOT LIKE 'transfer-%/%' OR EXISTS (
        SELECT 1 FROM transfers t
        WHERE t.state IN ('completed', 'rejected', 'compensated', 'resolved')
          AND substr(inbox.message_id, 1, length(t.id) + 10) = 'transfer-' || t.id || '/'))"""
INBOX = SweptTable("inbox", "message_id", "processed_at", SAGA_STEPS_OF_ENDED_TRANSFERS_ONLY)
OUTBOX = SweptTable("outbox", "id", "sent_at")


class RetentionSweeper:
    """Deletes inbox rows older than the inbox window and sent outbox rows older than theirs.

    An inbox row is what makes a redelivered message a duplicate: once it is deleted,
    a later copy of that message id is processed again. So the inbox window must be
    longer than any duplicate can plausibly arrive. Saga steps (``transfer-…`` ids)
    follow the same rule. Unsent outbox rows are never deleted, whatever their age.

    Every DELETE removes at most ``batch_size`` rows, so a sweep never holds locks
    for long; a sweep repeats it until nothing old is left. Several processes may
    sweep at once: on PostgreSQL each skips the rows another is deleting, and a row
    deleted twice is simply not found the second time.
    """

    def __init__(
        self,
        *,
        inbox_retention: timedelta,
        outbox_retention: timedelta,
        interval: float,
        batch_size: int,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._inbox_retention = inbox_retention
        self._outbox_retention = outbox_retention
        self._interval = interval
        self._batch_size = batch_size
        self._last_sweep: float | None = None

    async def sweep_once(self, now: datetime | None = None) -> tuple[int, int]:
        """Delete everything past its window as of ``now``; return (inbox, outbox) rows deleted.

        ``now`` defaults to the current time; a naive ``now`` is taken as UTC.
        """
        return await self._sweep(now, stop=None)

    async def delete_batch(self, target: SweptTable, cutoff: datetime) -> int:
        """One DELETE of at most ``batch_size`` rows of ``target`` older than ``cutoff``."""
        db = connections.get("default")
        postgres = db.capabilities.dialect == "postgres"
        deleted, _ = await db.execute_query(
            target.delete_sql(postgres), [_utc(cutoff), self._batch_size]
        )
        return int(deleted)

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep every ``interval`` seconds until ``stop`` is set; database trouble only delays it.

        The first sweep comes at once, unless this sweeper swept less than an interval
        ago (a reconnect does not sweep again). A stop event rather than cancellation
        alone: on Python 3.11 a cancellation that meets a finishing ``wait_for`` can be
        lost; the event is also checked between batches, so a stop never waits for a
        long sweep.
        """
        while not stop.is_set():
            if self._last_sweep is not None:
                due = self._last_sweep + self._interval - time.monotonic()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(due, 0.0))
                if stop.is_set():
                    return
            self._last_sweep = time.monotonic()
            try:
                inbox, outbox = await self._sweep(None, stop)
            except Exception as error:  # the database is away: try again next interval
                log.warning("retention sweep failed, retrying in %.0fs: %s", self._interval, error)
                continue
            if inbox or outbox:
                log.info(
                    "retention: deleted %d inbox rows older than %gd and %d sent outbox rows "
                    "older than %gh",
                    inbox,
                    self._inbox_retention / timedelta(days=1),
                    outbox,
                    self._outbox_retention / timedelta(hours=1),
                )

    async def _sweep(self, now: datetime | None, stop: asyncio.Event | None) -> tuple[int, int]:
        now = _utc(now or datetime.now(UTC))
        inbox = await self._delete_all(INBOX, now - self._inbox_retention, stop)
        outbox = await self._delete_all(OUTBOX, now - self._outbox_retention, stop)
        return inbox, outbox

    async def _delete_all(
        self, target: SweptTable, cutoff: datetime, stop: asyncio.Event | None
    ) -> int:
        total = 0
        while stop is None or not stop.is_set():
            deleted = await self.delete_batch(target, cutoff)
            total += deleted
            if deleted < self._batch_size:
                break
        return total


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC, as the rows are stored (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
