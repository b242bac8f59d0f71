"""The README's run command: `worker dev` brings its own Temporal and stops it again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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
    port, ui_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEMPORAL_ADDRESS"}}
    env |= {"AMQP_URL": amqp_url, "PYTHONPATH": str(ROOT)}
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
