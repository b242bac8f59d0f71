"""Fixtures of the fault-injection suite, and its figures printed at the end of the run."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.environment import (
    Environment,
    delete_vhost,
    environment,
    migrated_database,
    own_temporal,
)
from tests.faults.figures import RECORDED, save, table
from tests.services import add_vhost, drop_database
from worker.sagas.devserver import DevServer


@pytest.fixture(scope="session")
def faults_template() -> Iterator[str]:
    """A migrated database that every scenario's database is copied from."""
    name = f"faults_template_{uuid.uuid4().hex[:8]}"
    migrated_database(name)
    yield name
    drop_database(name)


@pytest.fixture(scope="session")
def faults_vhost() -> Iterator[str]:
    """One vhost for the suite, emptied before each test (cheaper than one per test)."""
    vhost = f"faults-{uuid.uuid4().hex[:8]}"
    add_vhost(vhost)
    yield vhost
    delete_vhost(vhost)


@pytest.fixture(scope="session")
def faults_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults")


@pytest.fixture
def env(
    request: pytest.FixtureRequest,
    faults_template: str,
    faults_vhost: str,
    temporal_address: str,
    faults_logs: Path,
) -> Iterator[Environment]:
    """A fresh database and an emptied vhost for this test, on the session's Temporal server."""
    label = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_"))[:24].strip("-")
    with environment(
        faults_template, temporal_address, faults_logs, label, faults_vhost
    ) as created:
        yield created


@pytest.fixture
def temporal(tmp_path: Path) -> Iterator[DevServer]:
    """A Temporal dev server of this test's own, which it may stop and restart."""
    server = own_temporal(tmp_path / "temporal").start()
    yield server
    server.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RECORDED:
        return
    terminalreporter.section("fault-injection figures")
    terminalreporter.write_line(table(RECORDED))
    terminalreporter.write_line(f"(also in {save(RECORDED)})")
