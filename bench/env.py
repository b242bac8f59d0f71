"""A private vhost and database per benchmark run, emptied between rounds."""

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

from bench.projection_baseline import STATEMENT_DDL, STATEMENT_TABLE

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
    "event_log",
    "handled_events",
    "projection_cursors",
    "command_outbox",
    STATEMENT_TABLE,
)
QUEUES = tuple(
    f"{context}.commands" for context in ("accounts", "transfers", "customers", "catalog", "orders")
)
#: Every handler's state starts again from an empty log (its live generation is kept).
RESTART_HANDLERS = """UPDATE handler_state SET position = 0, started_position = 0,
    last_applied_at = NULL, last_error = NULL, last_error_at = NULL, seen_at = NULL,
    rebuild_owner = NULL, rebuild_started_at = NULL"""


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)


@dataclass
class Environment:
    """One vhost and one migrated PostgreSQL database, dropped by ``close``."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    handler_queues: tuple[str, ...] = ()

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

        catalog = contexts()
        # The handlers' queues too, as a deployed worker leaves them: events published
        # while no handler runs wait there (else only the log's slower catch-up finds them).
        handlers = {s.name: sorted(s.events) for s in catalog.subscriptions}
        self.handler_queues = tuple(topology.handler_queue(name) for name in handlers)
        connection = await aio_pika.connect(self.amqp_url)
        await topology.declare_all(await connection.channel(), catalog.commands, (), handlers)
        await connection.close()
        db = await asyncpg.connect(self.database_url)
        await db.execute(STATEMENT_DDL)
        await db.close()
        return self

    async def close(self) -> None:
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "bench_{self.run_id}" WITH (FORCE)')
        await admin.close()
        _rabbitmqctl("delete_vhost", self.vhost)

    async def reset(self, accounts: int, inbox_rows: int = 0, balance: int = 0) -> None:
        """Empty every table and queue and (re)create ``accounts`` accounts holding ``balance``.

        The read side starts again too: an empty log, no handled records or cursors, every
        handler's mark at 0 and its live read model empty.
        """
        db = await asyncpg.connect(self.database_url)
        try:
            tables = [*TABLES, *await live_read_model_tables(db)]
            await db.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
            await db.execute(RESTART_HANDLERS)
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
            # Only our tables: a bare ANALYZE also takes the cluster's shared catalogs, where
            # it can wait behind other databases' sessions (a hang seen with e2e tests running).
            await db.execute(f"ANALYZE {', '.join(tables)}")
        finally:
            await db.close()
        connection = await aio_pika.connect(self.amqp_url)
        channel = await connection.channel()
        for queue in (*QUEUES, *self.handler_queues):
            await (await channel.declare_queue(queue, passive=True)).purge()
        await connection.close()


async def live_read_model_tables(db: asyncpg.Connection) -> list[str]:
    """Each projection's tables in the generation it reads now (``<logical>_g<n>``)."""
    from worker.bootstrap import contexts
    from worker.readside.declarations import Projection, physical_table

    generations = dict(await db.fetch("SELECT name, generation FROM handler_state"))
    return [
        physical_table(logical, generations.get(s.name, 1))
        for s in contexts().subscriptions
        if isinstance(s, Projection)
        for logical in s.tables
    ]


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
