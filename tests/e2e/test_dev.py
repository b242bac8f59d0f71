"""The README's run command: `worker dev` brings its own Temporal and stops it again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import ROOT
from worker.sagas.devserver import free_port

pytestmark = pytest.mark.e2e


def cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_dev_runs_a_transfer_on_embedded_sqlite_and_its_own_temporal(
    amqp_url: str, tmp_path: Path
) -> None:
    port, ui_port, http_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEMPORAL_ADDRESS"}}
    env |= {"AMQP_URL": amqp_url, "PYTHONPATH": str(ROOT), "HTTP_PORT": str(http_port)}
    log = (tmp_path / "dev.log").open("w")
    dev = subprocess.Popen(
        [sys.executable, "-m", "worker", "dev", "--port", str(port), "--ui-port", str(ui_port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while "saga worker polling" not in (tmp_path / "dev.log").read_text():
            assert dev.poll() is None, (tmp_path / "dev.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "dev.log").read_text()
            time.sleep(0.2)
        assert port_open(ui_port), "the Temporal UI is served"
        live = httpx.get(f"http://127.0.0.1:{http_port}/health/live", timeout=10)
        assert live.status_code == 200, "the HTTP API is served beside the worker"
        client_env = env | {"TEMPORAL_ADDRESS": f"127.0.0.1:{port}"}
        for account in ("dev-a", "dev-b"):
            opened = cli(
                client_env,
                tmp_path,
                "send",
                "OpenAccount",
                f"account_id={account}",
                "owner=Dev",
                "currency=EUR",
                "--wait",
            )
            assert opened.returncode == 0, opened.stderr
        cli(
            client_env,
            tmp_path,
            "send",
            "Deposit",
            "account_id=dev-a",
            "amount=5",
            "currency=EUR",
            "--wait",
        )
        moved = cli(
            client_env,
            tmp_path,
            "send",
            "TransferMoney",
            "transfer_id=dev-t",
            "from_account_id=dev-a",
            "to_account_id=dev-b",
            "amount=2",
            "currency=EUR",
            "--wait-saga",
        )
        assert moved.returncode == 0, moved.stdout + moved.stderr
        listed = json.loads(cli(client_env, tmp_path, "accounts", "list", "--json").stdout)
        assert {a["account_id"]: a["balance"] for a in listed} == {"dev-a": "3.00", "dev-b": "2.00"}
    finally:
        dev.send_signal(signal.SIGTERM)
        code = dev.wait(60)
    assert code == 0, (tmp_path / "dev.log").read_text()
    assert (tmp_path / ".data" / "worker.sqlite3").exists()
    assert (tmp_path / ".data" / "temporal.sqlite").exists()
    assert not port_open(port), "the dev server stopped with the worker"
    assert not port_open(http_port), "the HTTP API stopped with the worker"


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        yield squatter.getsockname()[1]


@pytest.mark.parametrize(
    ("option", "use"),
    [("--port", "Temporal"), ("--ui-port", "the Temporal UI"), (None, "the HTTP API and console")],
)
def test_dev_says_which_port_it_needs_is_taken_and_exits_non_zero(
    amqp_url: str, tmp_path: Path, taken_port: int, option: str | None, use: str
) -> None:
    ports = {"--port": str(free_port()), "--ui-port": str(free_port())}
    http_port = taken_port if option is None else free_port()
    if option is not None:
        ports[option] = str(taken_port)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEMPORAL_ADDRESS"}}
    env |= {"AMQP_URL": amqp_url, "PYTHONPATH": str(ROOT), "HTTP_PORT": str(http_port)}

    refused = cli(env, tmp_path, "dev", *(item for pair in ports.items() for item in pair))

    assert refused.returncode == 1
    advice = "stop what listens there, or choose another port"
    assert refused.stderr.strip().splitlines() == [
        f"error: port {taken_port} ({use}) is taken: {advice}"
    ]
    assert not (tmp_path / ".data").exists(), "nothing was started"


def test_the_http_command_says_its_port_is_taken(tmp_path: Path, taken_port: int) -> None:
    env = os.environ | {"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite://{tmp_path}/w.db"}

    refused = cli(env, tmp_path, "http", "--port", str(taken_port))

    assert refused.returncode == 1
    assert f"error: port {taken_port} on 127.0.0.1 (the HTTP API) is taken" in refused.stderr
    assert "Traceback" not in refused.stderr
