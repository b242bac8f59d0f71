"""The faults themselves: kills at random, a broker restart, a database outage, Temporal restarts.

Each fault is a coroutine function; :func:`unleash` runs them beside the traffic
and waits for all. Each waits at its gate until there is work in flight (see
tests/faults/in_flight.py) before it strikes. The machine-wide ones (RabbitMQ,
PostgreSQL) stop servers that every other test run on this machine uses too.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
from collections.abc import Awaitable, Callable

import asyncpg

from tests.faults.cluster import Cluster
from tests.faults.in_flight import Gate
from worker.sagas.devserver import DevServer

Fault = Callable[[], Awaitable[None]]


def kill_at_random(
    cluster: Cluster,
    rng: random.Random,
    names: list[str],
    *,
    times: int,
    gate: Gate,
    pause: tuple[float, float] = (0.3, 1.5),
) -> Fault:
    """SIGKILL one of ``names`` and restart it, ``times`` times: each after a random pause,
    once ``gate`` sees work in flight (when it gives up, so do the remaining kills)."""

    async def fault() -> None:
        for _ in range(times):
            await asyncio.sleep(rng.uniform(*pause))
            if not await gate():
                return
            await cluster.bounce(rng.choice(names))

    return fault


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True)


def restart_rabbitmq(gate: Gate) -> Fault:
    """Stop and start the broker's application (machine-wide!) once ``gate`` opens."""

    async def fault() -> None:
        if not await gate():
            return
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


async def unreachable(database_url: str) -> bool:
    try:
        connection = await asyncpg.connect(database_url, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return True
    await connection.close()
    return False


def postgres_outage(gate: Gate, seconds: float, database_url: str) -> Fault:
    """Stop PostgreSQL (machine-wide!) once ``gate`` opens, start it ``seconds`` later;
    on the way, make sure ``database_url`` really could not be reached."""

    async def fault() -> None:
        if not await gate():
            return
        await asyncio.to_thread(pg_cluster, "stop")
        try:
            await asyncio.sleep(seconds / 2)
            assert await unreachable(database_url), "PostgreSQL answered while stopped"
            await asyncio.sleep(seconds / 2)
        finally:
            await asyncio.to_thread(pg_cluster, "start")

    return fault


def restart_temporal(server: DevServer, gate: Gate, down: float = 2.0) -> Fault:
    """Stop the scenario's own Temporal dev server once ``gate`` opens; start it again
    on its db file ``down`` seconds later."""

    async def fault() -> None:
        if not await gate():
            return
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
