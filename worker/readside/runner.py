"""The handlers a process runs (``--role handlers``): their runtimes, and their keepers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from tortoise import connections
from tortoise.transactions import in_transaction

from worker.messaging.outbox_relay import RELAY_LOCK_KEY
from worker.readside.applying import HandlerRuntime
from worker.readside.declarations import Projection, Subscription
from worker.readside.keeper import HandlerKeeper
from worker.readside.log import sequence_pending
from worker.readside.progress import ensure_states
from worker.readside.read_model import ReadModel, live_generation


class HandlerRunner:
    def __init__(
        self,
        subscriptions: Sequence[Subscription],
        *,
        on_commands: Callable[[], None],
        failing: Callable[[str], bool],
        catch_up_after: float,
    ) -> None:
        self.subscriptions = tuple(subscriptions)
        self.runtimes = tuple(
            HandlerRuntime(s, on_commands=on_commands, failing=failing) for s in subscriptions
        )
        self._keepers = [HandlerKeeper(r, catch_up_after=catch_up_after) for r in self.runtimes]

    async def prepare(self) -> None:
        """Before consuming: each handler's state row, each projection's live tables."""
        await prepare_read_side(self.subscriptions)

    async def keep(self, stop: asyncio.Event) -> None:
        await asyncio.gather(*(keeper.run(stop) for keeper in self._keepers))


async def prepare_read_side(subscriptions: Sequence[Subscription], batch_size: int = 500) -> None:
    """Idempotent: what ``db migrate`` and every handler process make sure of.

    Under the relay's lock, every committed event is logged first: a policy starting now
    starts after them (an upgraded database's old outbox rows, events that waited while
    no relay ran), never before.
    """
    async with in_transaction() as db:
        if db.capabilities.dialect == "postgres":
            await db.execute_query("SELECT pg_advisory_xact_lock($1)", [RELAY_LOCK_KEY])
        while await sequence_pending(db, batch_size) == batch_size:
            pass
        await ensure_states(db, subscriptions)
    db = connections.get("default")
    for s in subscriptions:
        if isinstance(s, Projection):
            await ReadModel(db, s, await live_generation(db, s.name)).create_tables()
