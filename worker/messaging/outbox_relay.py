"""The outbox relay: logs committed events (their gap-free positions), then publishes them,
in order per aggregate, at least once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from aio_pika.abc import AbstractChannel
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from worker.messaging.publishing import publish_event
from worker.persistence.models import OutboxRow
from worker.readside.log import sequence_pending

log = logging.getLogger("worker.outbox")

#: Only one relay publishes at a time across processes (an advisory lock), so
#: events of one aggregate never overtake each other between two relays.
RELAY_LOCK_KEY = 0x0B0C_5E1A
#: An event not confirmed in time (broker flow control) stops its aggregate's
#: stream for this round; a hook (the saga start) that hangs does the same.
PUBLISH_TIMEOUT = 10.0
HOOK_TIMEOUT = 5.0


class OutboxRelay:
    """Publishes unsent outbox rows with confirms, then marks them sent.

    A commit wakes it at once (:meth:`wake`); it also sweeps every
    ``poll_interval`` seconds for rows committed by other processes or left by a
    crash. A crash between publish and marking re-publishes: consumers see the
    same event id twice, never a missing one.
    """

    def __init__(
        self,
        *,
        batch_size: int,
        poll_interval: float,
        is_postgres: bool,
        before_publish: Mapping[str, Callable[[OutboxRow], Awaitable[None]]] | None = None,
        crash_after_publish: str | None = None,
    ) -> None:
        self._before_publish = dict(before_publish or {})
        #: Test hook (TEST_CRASH_AFTER_PUBLISH): exit hard once the broker confirmed
        #: this event id, before it is marked as sent.
        self._crash_after_publish = crash_after_publish
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._is_postgres = is_postgres
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, channel: AbstractChannel, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; database or broker trouble only delays it.

        A stop event rather than cancellation alone: on Python 3.11 a cancellation
        that meets a finishing ``wait_for`` can be lost, and the loop would go on.
        """
        while not stop.is_set():
            try:
                # Each round in a task of its own, so in a context of its own: a transaction
                # whose end failed while the database went away can leave tortoise's
                # current-transaction variable behind, and every later round of this loop
                # would then fail on that released connection (seen in fault scenario 4).
                round_ = asyncio.create_task(self.publish_pending(channel))
                full = await round_ == self._batch_size
            except Exception as error:  # the database or broker is away: try again later
                log.warning("outbox relay failed, retrying: %s", error)
                full = False
                await asyncio.sleep(self._poll_interval)
            if not full:
                await self._sleep()

    async def _sleep(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll_interval)
        self._wake.clear()

    async def publish_pending(self, channel: AbstractChannel) -> int:
        """Log and publish one batch; return the larger count (0: nothing to do, or stuck)."""
        logged = await self.log_pending()
        if not self._is_postgres:
            # One process owns an SQLite file; a transaction here would hold its
            # only connection (and so every command) for the whole publish.
            return max(logged, await self._publish_batch(channel, None))
        async with in_transaction() as db:
            if not await self._won_the_relay_lock(db):
                return logged
            return max(logged, await self._publish_batch(channel, db))

    async def log_pending(self) -> int:
        """Give positions to committed events that have none, in a transaction of its own:
        they are committed before anything carrying them goes out."""
        async with in_transaction() as db:
            if not await self._won_the_relay_lock(db):
                return 0
            return await sequence_pending(db, self._batch_size)

    async def _publish_batch(self, channel: AbstractChannel, db: BaseDBAsyncClient | None) -> int:
        query = OutboxRow.filter(sent_at=None, position__not_isnull=True)
        query = query.order_by("position").limit(self._batch_size)
        if db is not None:
            query = query.select_for_update(skip_locked=True).using_db(db)
        rows = await query
        if not rows:
            return 0
        # Each publish and hook has its own timeout, so what was confirmed is always marked.
        confirmed = await self._publish_in_order(channel, rows)
        if confirmed:
            update = OutboxRow.filter(id__in=confirmed)
            await (update if db is None else update.using_db(db)).update(sent_at=datetime.now(UTC))
        return len(confirmed)

    async def _won_the_relay_lock(self, db: BaseDBAsyncClient) -> bool:
        if not self._is_postgres:
            return True
        query = "SELECT pg_try_advisory_xact_lock($1) AS ok"
        _, rows = await db.execute_query(query, [RELAY_LOCK_KEY])
        return bool(rows[0]["ok"])

    async def _publish_in_order(self, channel: AbstractChannel, rows: list[OutboxRow]) -> list[int]:
        """Publish each aggregate's events one after another, aggregates side by side.

        An aggregate stops at its first failure, so a later event never goes out
        before an earlier one that is still pending.
        """
        by_aggregate: defaultdict[tuple[str, str], list[OutboxRow]] = defaultdict(list)
        for row in rows:
            by_aggregate[(row.aggregate_type, row.aggregate_id)].append(row)

        async def publish_stream(stream: list[OutboxRow]) -> list[int]:
            sent: list[int] = []
            for row in stream:
                try:
                    hook = self._before_publish.get(row.event_type)
                    if hook is not None:
                        await asyncio.wait_for(hook(row), HOOK_TIMEOUT)
                    await asyncio.wait_for(publish_event(channel, row), PUBLISH_TIMEOUT)
                except Exception as error:  # TimeoutError included: this stream waits
                    # A timeout's own text is empty: its type says what happened.
                    why = str(error) or type(error).__name__
                    log.warning("event %s not published, will retry: %s", row.event_id, why)
                    break
                if row.event_id == self._crash_after_publish:
                    os._exit(75)
                sent.append(row.id)
            return sent

        results = await asyncio.gather(*(publish_stream(s) for s in by_aggregate.values()))
        return [row_id for sent in results for row_id in sent]
