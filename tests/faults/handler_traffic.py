"""What the handler scenarios need around the commands' machinery: the handlers' queues
emptied, a gate on the events a handler has not applied yet, traffic that lasts as long
as the faults, and a wait until every handler has caught up with the log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import aio_pika
import asyncpg

from tests.e2e.harness import run_cli
from tests.faults.environment import Environment
from tests.faults.in_flight import Gate
from tests.faults.scenarios import Run
from tests.faults.workloads import mixed
from tests.wiring import CONTEXTS
from worker.config import parse_delays
from worker.messaging.topology import dead_letter_queue, handler_queue, retry_queue
from worker.readside.declarations import Subscription

SUBSCRIPTIONS: tuple[Subscription, ...] = CONTEXTS.subscriptions


def handler_queues(retry_delays: tuple[float, ...]) -> list[str]:
    """Every handler's queue, its retry queues and its DLQ."""
    queues = [handler_queue(s.name) for s in SUBSCRIPTIONS]
    retries = [retry_queue(q, delay) for q in queues for delay in retry_delays]
    return [*queues, *retries, *(dead_letter_queue(q) for q in queues)]


async def queue_counts(env: Environment, names: list[str], purge: bool = False) -> dict[str, int]:
    """Messages ready in each queue there is (purged afterwards when ``purge``)."""
    counts: dict[str, int] = {}
    async with await aio_pika.connect(env.amqp_url) as connection:
        for name in names:
            channel = await connection.channel()
            with contextlib.suppress(aio_pika.exceptions.ChannelNotFoundEntity):
                queue = await channel.declare_queue(name, passive=True)
                counts[name] = int(queue.declaration_result.message_count or 0)
                if purge:
                    await queue.purge()
    return counts


async def empty_handler_queues(env: Environment) -> None:
    """The suite's vhost is emptied of the commands' queues only: events an earlier
    scenario left for the handlers (no handler ran there) would be this one's dead letters."""
    delays = parse_delays(env.settings.get("RETRY_DELAYS", ""))
    await queue_counts(env, handler_queues(delays), purge=True)


async def unapplied(database_url: str, subscription: Subscription) -> int:
    """Events of the handler's types in the log that it has no handled record of."""
    connection = await asyncpg.connect(database_url)
    try:
        found = await connection.fetchval(
            "SELECT count(*) FROM event_log l WHERE l.event_type = ANY($1::text[]) "
            "AND NOT EXISTS (SELECT 1 FROM handled_events h "
            "WHERE h.handler = $2 AND h.event_id = l.event_id)",
            list(subscription.events),
            subscription.name,
        )
    finally:
        await connection.close()
    return int(found)


def backlog_at_least(run: Run, subscription: Subscription, count: int) -> Gate:
    """Opens once ``subscription`` has ``count`` events to apply (recorded as in flight)."""

    async def gate() -> bool:
        deadline = time.monotonic() + run.in_flight.timeout
        while (found := await unapplied(run.env.database_url, subscription)) < count:
            assert time.monotonic() < deadline, f"never {count} events to apply ({found})"
            await asyncio.sleep(0.05)
        run.in_flight.at_faults.append(found)
        return True

    return gate


async def traffic_until(
    run: Run, accounts: list[str], over: asyncio.Future[Any], least: int, batch: int = 8
) -> int:
    """Publish mixed commands, ``batch`` at a time, until the faults are ``over`` and at
    least ``least`` went out (events keep coming whatever the faults take); how many."""
    sent = 0
    while sent < least or not over.done():
        await run.publish(mixed(run.rng, accounts, batch, transfers=0.03))
        sent += batch
        await asyncio.sleep(0.25)
    return sent


def projections(env: Environment) -> list[dict[str, Any]]:
    listed = run_cli(env.worker_env(), "projections", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    found: list[dict[str, Any]] = json.loads(listed.stdout)
    return found


async def caught_up(env: Environment, timeout: float = 60) -> list[dict[str, Any]]:
    """Wait until no handler has an event to apply, then until ``projections list`` shows
    every one live at lag 0; what it shows."""
    deadline = time.monotonic() + timeout
    for subscription in SUBSCRIPTIONS:
        while (left := await unapplied(env.database_url, subscription)) > 0:
            assert time.monotonic() < deadline, f"{subscription.name}: {left} not applied"
            await asyncio.sleep(0.2)
    while True:
        shown = await asyncio.to_thread(projections, env)
        if all(h["lag_events"] == 0 and h["state"] == "live" for h in shown):
            return shown
        assert time.monotonic() < deadline, f"projections list: {shown}"
        await asyncio.sleep(0.5)
