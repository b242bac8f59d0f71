"""A worker environment of a test module's own: a fresh database and vhost, and task
queues no other worker polls (the shared dev server runs every module's sagas)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from tests.e2e.harness import run_cli
from tests.services import (
    add_vhost,
    create_database,
    delete_vhost,
    drop_database,
    pg_url,
    rabbit_url,
)


@contextmanager
def private_env(label: str, temporal_address: str) -> Iterator[dict[str, str]]:
    """The environment of a worker (or a CLI call) on them, migrated; dropped afterwards."""
    name = uuid.uuid4().hex[:8]
    vhost, database = f"{label}-{name}", f"worker_{label}_{name}"
    add_vhost(vhost)
    create_database(database)
    env = {
        "AMQP_URL": rabbit_url(vhost),
        "DATABASE_URL": pg_url(database),
        "TEMPORAL_ADDRESS": temporal_address,
        "TEMPORAL_TASK_QUEUE": f"{label}-{name}",
        "TEMPORAL_TASK_QUEUE_PREFIX": f"{label}-{name}-",
        "SHUTDOWN_GRACE": "10",
    }
    try:
        migrated = run_cli(env, "db", "migrate")
        assert migrated.returncode == 0, migrated.stderr
        yield env
    finally:
        drop_database(database)
        delete_vhost(vhost)
