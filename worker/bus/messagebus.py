"""The message bus: routes each command to its one handler inside a fresh unit of work."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from domain.shared.errors import BusinessRuleViolation, ConcurrencyConflict
from worker.bus.commands import Command
from worker.bus.outcomes import Outcome
from worker.bus.unit_of_work import DuplicateMessage, MessageContext, UnitOfWork

UnitOfWorkFactory = Callable[[MessageContext], UnitOfWork]
#: A command handler (an application service): loads one aggregate, calls it, never commits.
Handler = Callable[[Any, UnitOfWork], Awaitable[None]]


class KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: defaultdict[str, int] = defaultdict(int)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]


class MessageBus:
    """Handles one command per call, exactly once per message id.

    Each attempt opens a new unit of work: if the message id is already in the
    inbox, the recorded outcome is returned and nothing changes. Otherwise the
    handler runs; a business refusal commits only the *rejected* outcome.
    Commands to the same aggregate are serialised within this process; across
    processes the version check raises a conflict, and the bus reloads and
    retries up to ``max_conflict_retries`` times before letting it propagate.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        handlers: dict[type[Command], Handler],
        *,
        max_conflict_retries: int = 10,
        on_events_committed: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow_factory = uow_factory
        self._handlers = handlers
        self._max_conflict_retries = max_conflict_retries
        self._on_events_committed = on_events_committed
        self._locks = KeyedLocks()

    async def handle(self, command: Command, context: MessageContext) -> Outcome:
        # Most messages are new: the first attempt skips reading the inbox and lets
        # the inbox insert at commit (its primary key) catch a duplicate, which is
        # then answered from the inbox. One round trip fewer per message.
        read_inbox_first = False
        async with self._locks.hold(command.aggregate_id):
            for attempt in range(self._max_conflict_retries + 1):
                try:
                    return await self._handle_once(command, context, read_inbox_first)
                except DuplicateMessage:
                    if attempt == self._max_conflict_retries:
                        raise
                    read_inbox_first = True
                except ConcurrencyConflict:
                    if attempt == self._max_conflict_retries:
                        raise
                    await asyncio.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))
        raise AssertionError("unreachable")

    async def _handle_once(
        self, command: Command, context: MessageContext, read_inbox_first: bool
    ) -> Outcome:
        handler = self._handlers[type(command)]
        async with self._uow_factory(context) as uow:
            recorded = await uow.recorded_outcome() if read_inbox_first else None
            if recorded is not None:
                return recorded.as_duplicate()
            try:
                await handler(command, uow)
                outcome = Outcome.accepted(context.message_id)
            except BusinessRuleViolation as refusal:
                uow.discard_changes()
                outcome = Outcome.rejected(context.message_id, refusal.code, str(refusal))
            await uow.commit(outcome)
        if uow.events_committed:
            self._on_events_committed()
        return outcome
