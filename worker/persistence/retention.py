"""Retention: old inbox rows and sent outbox rows are deleted, a bounded batch at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
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


@dataclass(frozen=True)
class KeptSteps:
    """One saga kind's step rows (``<kind>-<id>/...``) and the record that says it ended.

    A saga's step rows are what its compensation decides from: they stay while its
    record has not ended, however long it waits for an operator.
    """

    kind: str
    table: str
    id_column: str
    state_column: str
    ended: frozenset[str]

    def condition(self) -> str:
        """What an inbox row must meet to go: not this kind's step, or its record ended."""
        ended = ", ".join(_literal(state) for state in sorted(self.ended))
        prefix = _literal(f"{self.kind}-")
        return (
            f"AND (message_id NOT LIKE {_literal(f'{self.kind}-%/%')} OR EXISTS ("
            f'SELECT 1 FROM "{self.table}" r WHERE r."{self.state_column}" IN ({ended}) '
            f'AND substr(inbox.message_id, 1, length(r."{self.id_column}") + '
            f"{len(self.kind) + 2}) = {prefix} || r.\"{self.id_column}\" || '/'))"
        )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def inbox_table(kept: Sequence[KeptSteps]) -> SweptTable:
    """The inbox, less the step rows of every saga whose record has not ended."""
    return SweptTable("inbox", "message_id", "processed_at", " ".join(k.condition() for k in kept))


OUTBOX = SweptTable("outbox", "id", "sent_at")
#: The commands policies issued, once relayed: the receiver's inbox keeps their ids.
COMMAND_OUTBOX = SweptTable("command_outbox", "id", "sent_at")
#: The HTTP API's idempotency keys: kept as long as the inbox keeps message ids.
HTTP_COMMANDS = SweptTable("http_command", "idempotency_key", "created_at")
#: Console sessions past their end.
CONSOLE_SESSIONS = SweptTable("console_session", "id", "expires_at")


class RetentionSweeper:
    """Deletes inbox rows older than the inbox window and sent outbox rows older than theirs.

    An inbox row is what makes a redelivered message a duplicate: once it is deleted,
    a later copy of that message id is processed again. So the inbox window must be
    longer than any duplicate can plausibly arrive. Saga steps (``<kind>-<id>/…``)
    follow the same rule once their record ended, and stay until then (``kept_steps``:
    every declared saga's when not given). Unsent outbox rows are never deleted,
    whatever their age. The HTTP API's idempotency keys go with the inbox's window
    (just before the inbox rows), and console sessions once they have expired.

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
        kept_steps: Sequence[KeptSteps],
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.inbox = inbox_table(kept_steps)
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
        # Keys first: a key outliving its inbox row would let a retried POST publish
        # again, and a command no inbox remembers is applied again.
        await self._delete_all(HTTP_COMMANDS, now - self._inbox_retention, stop)
        inbox = await self._delete_all(self.inbox, now - self._inbox_retention, stop)
        outbox = await self._delete_all(OUTBOX, now - self._outbox_retention, stop)
        outbox += await self._delete_all(COMMAND_OUTBOX, now - self._outbox_retention, stop)
        await self._delete_all(CONSOLE_SESSIONS, now, stop)
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
