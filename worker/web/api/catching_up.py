"""Read-your-writes: ``?after=<message id>`` waits until that command has its outcome and,
for a resource read from a projection, until the projection has applied what it caused."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import Query
from tortoise import connections

from worker.cli.common import shown
from worker.persistence.models import OutboxRow
from worker.readside.declarations import Subscription
from worker.readside.progress import position_caused_by, wait_until_applied
from worker.web.api.idempotency import stored_id
from worker.web.api.outcomes import POLL_INTERVAL, final_outcome
from worker.web.problems import unavailable

DEFAULT_WAIT = 5.0
MAX_WAIT = 30.0
AFTER = Query(
    None, description="A message id: first wait until that command's effects can be read."
)
WAIT = Query(DEFAULT_WAIT, ge=0, description="Seconds `after` may wait (at most 30).")


async def _until(done: Callable[[], Awaitable[bool]], deadline: float) -> bool:
    """Poll ``done()`` until it is true (True) or the deadline passes (False)."""
    loop = asyncio.get_running_loop()
    while not await done():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(min(POLL_INTERVAL, max(0.0, deadline - loop.time())))
    return True


async def lagging(after: str, projection: Subscription | None, seconds: float) -> str | None:
    """What has not caught up with command ``after`` within ``seconds`` (None: nothing):
    its outcome, or ``projection`` applying every event it caused."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    shown_id = shown(after)

    async def has_outcome() -> bool:
        return await final_outcome(after) is not None

    async def all_logged() -> bool:  # the relay gives each event its place in the log
        return not await OutboxRow.filter(causation_id=after, position=None).exists()

    if not await _until(has_outcome, deadline):
        return f"the command {shown_id} has no outcome yet"
    if projection is None:
        return None
    behind = f"the {projection.name} projection has not applied what {shown_id} caused yet"
    if not await _until(all_logged, deadline):
        return behind
    position = await position_caused_by(connections.get("default"), after)
    if position is None:
        return None  # it caused no event (a rejection, say)
    applied = await wait_until_applied(projection, position, max(0.0, deadline - loop.time()))
    return None if applied else behind


async def read_your_writes(after: str | None, wait: float, projection: Subscription | None) -> None:
    """Nothing when there is nothing to wait for or it caught up; else a 503
    ``not_caught_up`` (with Retry-After)."""
    if after is None:
        return
    behind = await lagging(stored_id(after, "after"), projection, min(max(wait, 0.0), MAX_WAIT))
    if behind is not None:
        raise unavailable("not_caught_up", f"{behind}; try again")
