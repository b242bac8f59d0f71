"""The faults themselves: kills at random, a broker restart, a database outage, Temporal restarts.

Each fault is a coroutine function; :func:`unleash` runs them beside the traffic
and waits for all. The machine-wide ones (RabbitMQ, PostgreSQL) stop servers that
every other test run on this machine uses too.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
from collections.abc import Awaitable, Callable

from tests.faults.cluster import Cluster
from worker.adapters.temporal.devserver import DevServer

Fault = Callable[[], Awaitable[None]]


def kill_at_random(
    cluster: Cluster,
    rng: random.Random,
    names: list[str],
    *,
    times: int,
    pause: tuple[float, float] = (0.3, 1.5),
) -> Fault:
    """SIGKILL one of ``names`` after a random pause and restart it, ``times`` times.

    The kills go on after the last publish (publishing is faster than handling):
    they land while the queue is being worked off.
    """

    async def fault() -> None:
        for _ in range(times):
            await asyncio.sleep(rng.uniform(*pause))
            name = rng.choice(names)
            await cluster.kill(name)
            await cluster.restart(name)

    return fault


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True)


def restart_rabbitmq(after: float) -> Fault:
    """Stop and start the broker's application (machine-wide!) ``after`` seconds in."""

    async def fault() -> None:
        await asyncio.sleep(after)
        await asyncio.to_thread(rabbitmqctl, "stop_app")
        await asyncio.to_thread(rabbitmqctl, "start_app")
        await asyncio.to_thread(rabbitmqctl, "await_startup")

    return fault


def consumers_on(vhost: str, queue: str) -> int:
    """Consumers the broker has on ``queue`` now (list_queues lags for quorum queues)."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_consumers", "-p", vhost, "queue_name"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return listed.split().count(queue)


def pg_cluster(action: str) -> None:
    version = sorted(
        p for p in subprocess.check_output(["ls", "/etc/postgresql"], text=True).split()
    )
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version[0], "main", action], check=True
    )


def postgres_outage(after: float, seconds: float) -> Fault:
    """Stop PostgreSQL (machine-wide!) ``after`` seconds in, start it ``seconds`` later."""

    async def fault() -> None:
        await asyncio.sleep(after)
        await asyncio.to_thread(pg_cluster, "stop")
        try:
            await asyncio.sleep(seconds)
        finally:
            await asyncio.to_thread(pg_cluster, "start")

    return fault


def restart_temporal(server: DevServer, after: float, down: float = 2.0) -> Fault:
    """Stop the scenario's own Temporal dev server and start it again on its db file."""

    async def fault() -> None:
        await asyncio.sleep(after)
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(down)
        await asyncio.to_thread(server.start)

    return fault


async def unleash(traffic: Awaitable[None], faults: list[Fault]) -> None:
    """Run ``traffic`` with ``faults`` alongside; return when all of them are over."""
    running = [asyncio.ensure_future(fault()) for fault in faults]
    try:
        await traffic
    finally:
        results = await asyncio.gather(*running, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
