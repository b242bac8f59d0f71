from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import WorkerProcess

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def worker_env(amqp_url: str, database_url: str, temporal_address: str) -> dict[str, str]:
    return {
        "AMQP_URL": amqp_url,
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_address,
        "SHUTDOWN_GRACE": "10",
    }


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("worker-logs")


@pytest.fixture(scope="module")
def worker(worker_env: dict[str, str], logs: Path) -> Iterator[WorkerProcess]:
    """One worker shared by the tests of a module that do not kill it."""
    process = WorkerProcess(worker_env, logs).start()
    yield process
    process.stop()
