"""Applying one event to one handler, exactly once, in one transaction.

The event is always read from the log by its id, never from a delivery's body: a
copy published by hand can only name an event, not change it. A projection applies
each aggregate's events in version order: it keeps a cursor per aggregate, a late or
duplicate event finds the cursor past it and changes nothing, and an event that
arrives before its predecessors first applies them from the log (they are there:
positions are committed before anything is published). A policy writes the commands
it decides into the command outbox, beside its handled record.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from worker.bus.messagebus import KeyedLocks
from worker.persistence.sql import dialect_sql, inserted
from worker.readside import log
from worker.readside.declarations import LoggedEvent, Policy, Projection, Subscription
from worker.readside.read_model import ReadModel
from worker.readside.versions import apply_in_order, cursor_name


class Applied(enum.StrEnum):
    APPLIED = "applied"
    #: Already applied (a redelivery, a copy, or an event a gap fill or rebuild took).
    DUPLICATE = "duplicate"
    #: A policy's event from before it first started: recorded, never fired.
    BEFORE_START = "before_start"


class UnknownEvent(Exception):
    """The delivery names no event of the log, or one this handler does not take."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_STATE = "SELECT generation, started_position FROM handler_state WHERE name = ?"
_HANDLED = (
    "INSERT INTO handled_events (handler, event_id, position, handled_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (handler, event_id) DO NOTHING"
)
_COMMAND = (
    "INSERT INTO command_outbox (message_id, command, body, correlation_id, causation_id, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING"
)


async def record_handled(db: BaseDBAsyncClient, handler: str, event: LoggedEvent) -> bool:
    """Write the exactly-once record; False when this handler has it already."""
    params = [handler, event.event_id, event.position, datetime.now(UTC)]
    return bool(await inserted(db, _HANDLED, params))


class HandlerRuntime:
    """One subscription at work: :meth:`apply` takes an event id, once per handler."""

    def __init__(
        self,
        subscription: Subscription,
        *,
        on_commands: Callable[[], None] = lambda: None,
        failing: Callable[[str], bool] = lambda name: False,
    ) -> None:
        self.subscription = subscription
        self.name = subscription.name
        self.types = frozenset(subscription.events)
        self._on_commands = on_commands
        self._failing = failing
        self._locks = KeyedLocks()
        #: When this process last applied an event (the keeper writes it to the state
        #: row: an update there per event would serialise every apply on that row).
        self.last_applied: datetime | None = None

    async def apply(self, event_id: str) -> Applied:
        event = await log.by_id(connections.get("default"), event_id)
        if event is None:
            raise UnknownEvent("unknown_event", f"no event {event_id!r} in the event log")
        if event.event_type not in self.types:
            raise UnknownEvent(
                "not_subscribed",
                f"event {event_id} is a {event.event_type}, which {self.name} does not take",
            )
        if self._failing(self.name):
            raise RuntimeError(f"test hook: handler {self.name} fails (TEST_FAIL_HANDLER)")
        stream = f"{event.aggregate_type}/{event.aggregate_id}"
        async with self._locks.hold(stream), in_transaction() as db:
            applied = await self._apply(db, event)
        self.last_applied = datetime.now(UTC)
        if applied is Applied.APPLIED and isinstance(self.subscription, Policy):
            self._on_commands()
        return applied

    async def _apply(self, db: BaseDBAsyncClient, event: LoggedEvent) -> Applied:
        share = " FOR KEY SHARE" if db.capabilities.dialect == "postgres" else ""
        # A rebuild's swap (FOR UPDATE) waits for applies in flight, and they for it; the
        # keeper's heartbeat (a plain UPDATE) waits for neither.
        _, rows = await db.execute_query(dialect_sql(db, _STATE + share), [self.name])
        generation = int(rows[0]["generation"]) if rows else 1
        started = int(rows[0]["started_position"]) if rows else 0
        subscription = self.subscription
        if isinstance(subscription, Projection):
            # The aggregate's cursor is locked before any handled record is written, so two
            # processes applying one aggregate's events always lock in the same order.
            model = ReadModel(db, subscription, generation)
            applied = await apply_in_order(model, cursor_name(self.name, generation), event)
            for earlier in applied[:-1]:  # the gap it filled: recorded as handled too
                await record_handled(db, self.name, earlier)
            new = await record_handled(db, self.name, event)
            return Applied.APPLIED if applied and new else Applied.DUPLICATE
        if not await record_handled(db, self.name, event):
            return Applied.DUPLICATE
        if event.position <= started:
            return Applied.BEFORE_START
        await self._issue(db, subscription, event)
        return Applied.APPLIED

    @staticmethod
    async def _issue(db: BaseDBAsyncClient, policy: Policy, event: LoggedEvent) -> None:
        now = datetime.now(UTC)
        for index, command in enumerate(policy.decide(event)):
            params = [
                policy.message_id(event.event_id, index),
                command.name(),
                command.model_dump_json(by_alias=True),
                event.correlation_id or event.event_id,
                event.event_id,
                now,
            ]
            await db.execute_query(dialect_sql(db, _COMMAND), params)
