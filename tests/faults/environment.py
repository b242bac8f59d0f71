"""Private servers for one fault scenario: a vhost, a database, a task queue, maybe Temporal.

Every scenario gets a fresh RabbitMQ vhost and a fresh PostgreSQL database (a copy
of a migrated template, which takes a fraction of a second), so its checker sees
only its own messages, rows and dead letters. The same helpers serve the pytest
fixtures and the soak mode, which runs outside pytest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from tests.faults.broker import empty_vhost
from tests.services import (
    PG_ADMIN_URL,
    add_vhost,
    create_database,
    drop_database,
    pg_url,
    rabbit_url,
)
from worker.bootstrap import contexts as _contexts
from worker.config import parse_delays
from worker.sagas.client import search_attributes as _declared_attributes
from worker.sagas.devserver import DevServer, free_port

#: Registered when the dev server starts: SagaState and each declared saga kind's id.
SEARCH_ATTRIBUTES = _declared_attributes(_contexts(extra=()).sagas)

ROOT = Path(__file__).resolve().parents[2]

#: Fast failure handling, so that retries, breakers and shutdowns fit in a test.
FAST_SETTINGS = {
    "RETRY_DELAYS": "0.5,1",
    "IMMEDIATE_RETRIES": "2",
    "BREAKER_THRESHOLD": "5",
    "BREAKER_PROBE_INTERVAL": "0.5",
    "SHUTDOWN_GRACE": "5",
    "OUTBOX_POLL_INTERVAL": "0.5",
    "AMQP_HEARTBEAT": "5",
}


@dataclass
class Environment:
    """Where one scenario's workers, publishers and checker talk to."""

    name: str
    amqp_url: str
    database_url: str
    temporal_address: str
    log_dir: Path
    settings: dict[str, str] = field(default_factory=lambda: dict(FAST_SETTINGS))
    #: Run before the vhost and database go (say, killing workers a failed test left).
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    @property
    def vhost(self) -> str:
        return self.amqp_url.rsplit("/", 1)[1]

    def worker_env(self, **extra: str) -> dict[str, str]:
        """The environment variables of a worker (or a CLI call) of this scenario."""
        return {
            "AMQP_URL": self.amqp_url,
            "DATABASE_URL": self.database_url,
            "TEMPORAL_ADDRESS": self.temporal_address,
            # Its own task queue: a saga of another scenario never runs on this database.
            "TEMPORAL_TASK_QUEUE": f"faults-{self.name}",
            "TEMPORAL_TASK_QUEUE_PREFIX": f"faults-{self.name}-",
            **self.settings,
            **extra,
        }


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)


def delete_vhost(vhost: str) -> None:
    """Delete ``vhost`` in the background: nothing waits for it."""
    subprocess.Popen(
        ["rabbitmqctl", "-q", "delete_vhost", vhost],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def migrated_database(name: str) -> str:
    """Create database ``name`` and migrate it with the worker's own command; its URL."""
    create_database(name)
    url = pg_url(name)
    subprocess.run(
        [sys.executable, "-m", "worker", "db", "migrate"],
        check=True,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
    )
    return url


def clone_database(template: str, name: str) -> str:
    """A copy of the migrated ``template`` (much faster than migrating again)."""

    async def clone() -> None:
        connection = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await connection.close()

    asyncio.run(clone())
    return pg_url(name)


@contextlib.contextmanager
def environment(
    template: str,
    temporal_address: str,
    log_dir: Path,
    label: str = "scenario",
    vhost: str | None = None,
) -> Iterator[Environment]:
    """A fresh database (cloned from ``template``) and vhost, removed afterwards.

    Given a ``vhost`` (say, one for the whole test session), that one is emptied
    instead: making a vhost costs two ``rabbitmqctl`` runs, seconds of CPU each time.
    """
    name = f"{label}-{uuid.uuid4().hex[:6]}"
    database = f"faults_{name.replace('-', '_')}"
    own_vhost = vhost is None
    vhost = vhost or f"faults-{name}"
    if own_vhost:
        add_vhost(vhost)
    else:
        asyncio.run(empty_vhost(rabbit_url(vhost), parse_delays(FAST_SETTINGS["RETRY_DELAYS"])))
    try:
        url = clone_database(template, database)
        try:
            folder = log_dir / name
            folder.mkdir(parents=True, exist_ok=True)
            created = Environment(name, rabbit_url(vhost), url, temporal_address, folder)
            try:
                yield created
            finally:
                for cleanup in reversed(created.cleanups):
                    cleanup()
        finally:
            drop_database(database)
    finally:
        if own_vhost:
            delete_vhost(vhost)


def own_temporal(folder: Path) -> DevServer:
    """A Temporal dev server on free ports whose state survives a restart (a db file)."""
    folder.mkdir(parents=True, exist_ok=True)
    return DevServer(
        search_attributes=SEARCH_ATTRIBUTES,
        port=free_port(),
        ui_port=None,
        db_file=folder / "temporal.sqlite",
        log_file=folder / "temporal.log",
        extra_ports=(free_port(), free_port()),
    )
