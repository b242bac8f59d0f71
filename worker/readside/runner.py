"""The handlers a process runs (``--role handlers``): their runtimes, and their keepers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from tortoise import connections

from worker.readside.applying import HandlerRuntime
from worker.readside.declarations import Projection, Subscription
from worker.readside.keeper import HandlerKeeper
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


async def prepare_read_side(subscriptions: Sequence[Subscription]) -> None:
    """Idempotent: what ``db migrate`` and every handler process make sure of."""
    db = connections.get("default")
    await ensure_states(db, subscriptions)
    for s in subscriptions:
        if isinstance(s, Projection):
            await ReadModel(db, s, await live_generation(db, s.name)).create_tables()
