"""``python -m bench http``: commands through the front door's ``POST /commands/Deposit``
against the same commands published straight to RabbitMQ with confirms.

Both sides send the same number of deposits over the same accounts to one commands-only
worker; the rounds alternate and each figure is the median of its rounds.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.commands import COUNT_INBOX, deposit_bodies, publish
from bench.env import ROOT, Environment, wait_for_count
from bench.processes import Process, front_door_process, worker_process

#: Requests in flight at once, each on its own keep-alive HTTP/1.1 connection.
CONCURRENCY = 64
ONE_CONNECTION = httpx.Limits(max_connections=1, max_keepalive_connections=1)
SIDES = ("front_door", "direct")
Bodies = list[tuple[str, bytes]]


@dataclass
class HttpRound:
    side: str
    commands: int
    #: First request until the last 202 (front door), or the last confirm (direct).
    send_seconds: float
    sent_per_second: float
    #: First request until the inbox holds every command.
    end_to_end_seconds: float
    end_to_end_per_second: float
    worker_cpu_seconds_per_1000: float
    front_door_cpu_seconds_per_1000: float
    client_cpu_seconds_per_1000: float


@dataclass
class FrontDoor:
    """``python -m worker http`` on a free port, and a write token for it."""

    process: Process
    url: str
    headers: dict[str, str]
    #: One for every client: plain HTTP needs none, but each client would load the CA bundle.
    tls: ssl.SSLContext = field(default_factory=ssl.create_default_context)

    @classmethod
    async def start(cls, env: Environment, logs: Path) -> FrontDoor:
        port, spawned = free_port(), time.monotonic()
        process = front_door_process(env, logs / "front-door.log", port).start()
        try:  # the token is made while the front door starts: it reads tokens per request
            headers = {"Authorization": f"Bearer {await write_token(env)}"}
            door = cls(process, f"http://127.0.0.1:{port}", headers)
            await door.wait_live(spawned)
        except BaseException:
            process.stop()
            raise
        return door

    def client(self, timeout: float = 60) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url,
            headers=self.headers,
            limits=ONE_CONNECTION,
            timeout=timeout,
            verify=self.tls,
        )

    async def wait_live(self, spawned: float, timeout: float = 60) -> None:
        """Until ``GET /health/live`` answers 200; start-up is counted from ``spawned``."""
        async with self.client(timeout=2) as client:
            while True:
                try:
                    if (await client.get("/health/live")).status_code == 200:
                        self.process.startup_seconds = time.monotonic() - spawned
                        return
                except httpx.TransportError:
                    pass
                assert self.process.popen is not None
                if self.process.popen.poll() is not None or time.monotonic() - spawned > timeout:
                    log = self.process.log_path.read_text()
                    raise RuntimeError(f"the front door did not answer /health/live:\n{log}")
                await asyncio.sleep(0.1)

    async def post_all(self, bodies: Bodies) -> None:
        """POST every deposit, :data:`CONCURRENCY` at a time; anything but 202 fails the round.

        Each sender has a client of its own with one keep-alive connection, opened here (one
        idle since the last round may be closed under it): one httpx pool of 64 connections
        costs the client about three times the CPU per request (encode/httpx#3215), CPU the
        front door and the worker share on this machine.
        """
        refused: list[str] = []
        pending = iter(bodies)  # shared by the senders: each takes the next body when free

        async def sender() -> None:
            async with self.client() as client:
                for key, body in pending:
                    answer = await client.post(
                        "/commands/Deposit",
                        content=body,
                        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
                    )
                    if answer.status_code != 202:
                        refused.append(f"{answer.status_code} {answer.text[:300]}")

        await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
        if refused:
            raise RuntimeError(f"{len(refused)} requests not answered 202, first: {refused[0]}")


async def write_token(env: Environment) -> str:
    """A write token from the worker's own CLI (its output is never printed: it holds it)."""
    making = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "worker", "tokens", "create", "bench"),
        *("--scope", "write", "--json"),
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": env.database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await making.communicate()
    if making.returncode != 0:
        raise RuntimeError(f"tokens create failed: {err.decode(errors='replace')}")
    return str(json.loads(out)["token"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def forget_keys(env: Environment) -> None:
    """Empty the front door's key table, so that every round starts with the same one."""
    db = await asyncpg.connect(env.database_url)
    try:
        await db.execute("TRUNCATE http_command")
    finally:
        await db.close()


async def http_round(
    env: Environment, logs: Path, door: FrontDoor, side: str, n: int, accounts: int
) -> HttpRound:
    await env.reset(accounts)
    await forget_keys(env)
    worker = worker_process(env, logs / f"http-{side}-worker.log", 64).start()
    try:
        bodies = deposit_bodies(n, accounts, 0.0)
        cpu = (worker.cpu_seconds(), door.process.cpu_seconds(), time.process_time())
        began = time.monotonic()
        if side == "front_door":
            await door.post_all(bodies)
        else:
            await publish(env.amqp_url, bodies)
        sent = time.monotonic()
        done = await wait_for_count(env.database_url, COUNT_INBOX, n, timeout=600)
        after = (worker.cpu_seconds(), door.process.cpu_seconds(), time.process_time())
        per_1000 = [(b - a) / n * 1000 for a, b in zip(cpu, after, strict=True)]
        return HttpRound(
            side, n, sent - began, n / (sent - began), done - began, n / (done - began), *per_1000
        )
    finally:
        worker.stop()


async def compare_http(
    env: Environment, logs: Path, n: int, rounds: int, accounts: int, advance: Callable[[], None]
) -> dict[str, Any]:
    door = await FrontDoor.start(env, logs)
    try:
        # Its first requests open the broker and database connections: not measured.
        await door.post_all(deposit_bodies(CONCURRENCY, accounts, 0.0))
        measured: dict[str, list[HttpRound]] = {side: [] for side in SIDES}
        for _ in range(rounds):
            for side in SIDES:
                measured[side].append(await http_round(env, logs, door, side, n, accounts))
                advance()
    finally:
        door.process.stop()
    return summary(measured, door.process.startup_seconds)


def summary(measured: dict[str, list[HttpRound]], startup: float) -> dict[str, Any]:
    """Each side's median of each figure; the ratios are front door over direct."""
    figures = [name for name, kind in HttpRound.__annotations__.items() if kind == "float"]
    medians = {
        side: {f: statistics.median_low(getattr(r, f) for r in rounds) for f in figures}
        for side, rounds in measured.items()
    }
    door, direct = medians["front_door"], medians["direct"]
    return {
        "concurrency": CONCURRENCY,
        "front_door_startup_seconds": startup,
        **medians,
        "ratio": door["sent_per_second"] / direct["sent_per_second"],
        "end_to_end_ratio": door["end_to_end_per_second"] / direct["end_to_end_per_second"],
        "rounds": {side: [asdict(r) for r in rounds] for side, rounds in measured.items()},
    }
