"""A private vhost and database per benchmark run, and the processes under test."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import aio_pika
import asyncpg

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
AMQP_BASE = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
#: What ``reset`` empties: the framework's tables and every context's.
TABLES = (
    "inbox",
    "outbox",
    "accounts",
    "transfers",
    "customers",
    "products",
    "product_reservations",
    "orders",
    "order_lines",
)
QUEUES = tuple(
    f"{context}.commands" for context in ("accounts", "transfers", "customers", "catalog", "orders")
)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)


@dataclass
class Environment:
    """One vhost and one migrated PostgreSQL database, dropped by ``close``."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def vhost(self) -> str:
        return f"bench-{self.run_id}"

    @property
    def amqp_url(self) -> str:
        return AMQP_BASE.rstrip("/") + "/" + quote(self.vhost, safe="")

    @property
    def database_url(self) -> str:
        return PG_ADMIN.rsplit("/", 1)[0] + f"/bench_{self.run_id}"

    async def open(self) -> Environment:
        _rabbitmqctl("add_vhost", self.vhost)
        _rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "bench_{self.run_id}"')
        await admin.close()
        env = {**os.environ, "DATABASE_URL": self.database_url}
        subprocess.run(
            [sys.executable, "-m", "worker", "db", "migrate"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        from worker.bootstrap import contexts
        from worker.messaging import topology

        connection = await aio_pika.connect(self.amqp_url)
        await topology.declare_all(await connection.channel(), contexts().commands)
        await connection.close()
        return self

    async def close(self) -> None:
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "bench_{self.run_id}" WITH (FORCE)')
        await admin.close()
        _rabbitmqctl("delete_vhost", self.vhost)

    async def reset(self, accounts: int, inbox_rows: int = 0, balance: int = 0) -> None:
        """Empty every table and queue and (re)create ``accounts`` accounts holding ``balance``."""
        db = await asyncpg.connect(self.database_url)
        try:
            await db.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
            await db.execute(
                """INSERT INTO accounts (id, owner, currency, balance, status, version, updated_at)
                   SELECT 'acc-' || i, 'Bench', 'EUR', $2, 'open', 1, now()
                   FROM generate_series(1, $1) AS i""",
                accounts,
                balance,
            )
            if inbox_rows:
                await db.execute(
                    """INSERT INTO inbox (message_id, command, status, processed_at)
                       SELECT 'old-' || i, 'Deposit', 'accepted', now() - interval '1 day'
                       FROM generate_series(1, $1) AS i""",
                    inbox_rows,
                )
            await db.execute("ANALYZE")
        finally:
            await db.close()
        connection = await aio_pika.connect(self.amqp_url)
        channel = await connection.channel()
        for queue in QUEUES:
            await (await channel.declare_queue(queue, passive=True)).purge()
        await connection.close()


class Process:
    """A consumer under test: the worker or the baseline, as its own process."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log_path = args, env, log
        self.popen: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    def start(self, timeout: float = 60) -> Process:
        started = time.monotonic()
        log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        while b"ready:" not in self.log_path.read_bytes():
            if self.popen.poll() is not None or time.monotonic() - started > timeout:
                raise RuntimeError(f"{self.args} did not start:\n{self.log_path.read_text()}")
            time.sleep(0.01)
        self.startup_seconds = time.monotonic() - started
        return self

    def cpu_seconds(self) -> float:
        assert self.popen is not None
        fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        assert self.popen is not None
        for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()


def worker_process(env: Environment, log: Path, prefetch: int) -> Process:
    return Process(
        [sys.executable, "-m", "worker", "run", "--role", "commands"],
        {
            "AMQP_URL": env.amqp_url,
            "DATABASE_URL": env.database_url,
            "PREFETCH": str(prefetch),
            "LOG_LEVEL": "INFO",
        },
        log,
    )


def baseline_process(env: Environment, log: Path, prefetch: int) -> Process:
    return Process(
        [sys.executable, "-m", "bench.baseline"],
        {"AMQP_URL": env.amqp_url, "DATABASE_URL": env.database_url, "PREFETCH": str(prefetch)},
        log,
    )


async def wait_for_count(url: str, sql: str, wanted: int, timeout: float) -> float:
    """Poll until ``sql`` counts ``wanted``; return the time (monotonic) it did."""
    db = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + timeout
        while await db.fetchval(sql) < wanted:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{sql} did not reach {wanted} in {timeout}s")
            await asyncio.sleep(0.02)
        return time.monotonic()
    finally:
        await db.close()
