"""The crash hooks as soak faults: a command worker exits right after a commit, or right
after the broker confirmed an event it has not marked as sent yet (scenario 2's hooks).

Other workers would take the hook's message or publish its event first, so they
are paused (SIGSTOP) while the hooked worker does its part. A hook that does not
fire within :data:`HOOK_WAIT` (its message was already taken) is reported, and
the worker is killed instead.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

from tests.faults.chaos import Fault
from tests.faults.cluster import HOOK_EXIT, Callback
from tests.faults.observe import UNREACHABLE
from tests.faults.scenarios import Run
from worker.messaging.outbox_relay import RELAY_LOCK_KEY

HOOK_WAIT = 10.0


async def crash(
    run: Run, worker: str, hook: dict[str, str], started: Callback | None = None
) -> None:
    """Restart ``worker`` with ``hook``, let it exit, start it plain; say so if it did not fire."""
    code = await run.cluster.crash_once(worker, hook, HOOK_WAIT, started)
    if code != HOOK_EXIT:
        print(f"  note: {', '.join(hook)} did not fire (exit {code})", flush=True)


def crash_after_commit(run: Run, worker: str, others: list[str]) -> Fault:
    """A message well back in the queue: ``worker`` commits it and exits before the ack."""

    async def fault() -> None:
        if not await run.in_flight.messages_at_least(10)():
            return
        try:
            waiting = await run.in_flight.unhandled()
        except UNREACHABLE:
            return
        # Beyond what the paused workers hold already (64 deliveries each).
        hook = {"TEST_CRASH_AFTER_COMMIT": waiting[min(150, len(waiting) - 1)]}
        async with run.cluster.paused(others):
            await crash(run, worker, hook)

    return fault


async def oldest_unsent(connection: asyncpg.Connection, timeout: float = 5) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await connection.fetchval(
            "SELECT event_id FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 1"
        )
        if found is not None:
            return str(found)
        await asyncio.sleep(0.1)
    return None


def crash_after_publish(run: Run, worker: str, others: list[str]) -> Fault:
    """The oldest unsent event: ``worker``'s relay publishes it and exits before marking it.

    Holding the relays' advisory lock keeps every relay off while the event is
    chosen and the others are paused; released, only ``worker``'s relay is left.
    """

    async def fault() -> None:
        if not await run.in_flight.messages_at_least(10)():
            return
        try:
            await publish_and_crash(run, worker, others)
        except UNREACHABLE as error:  # another fault took the database away
            print(f"  note: crash-after-publish cut short: {error!r}", flush=True)

    return fault


async def publish_and_crash(run: Run, worker: str, others: list[str]) -> None:
    connection = await asyncpg.connect(run.env.database_url)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", RELAY_LOCK_KEY)
        event_id = await oldest_unsent(connection)
        if event_id is None:
            print("  note: crash-after-publish found no unsent event", flush=True)
            return
        async with run.cluster.paused(others):
            await crash(
                run,
                worker,
                {"TEST_CRASH_AFTER_PUBLISH": event_id},
                # Ready: let its relay (the only one running) publish the event.
                started=lambda: connection.execute("SELECT pg_advisory_unlock($1)", RELAY_LOCK_KEY),
            )
    finally:
        await connection.close()
