"""``worker check`` against a real Temporal server: every unfinished transfer needs a live saga.

The worker here has a database, a vhost and a task queue of its own: ``check``
reads the whole database, and the shared one holds transfers other tests left
waiting for an operator on purpose.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from tests.e2e.harness import BusClient, WorkerProcess, run_cli
from tests.e2e.private_env import private_env
from tests.e2e.test_sagas import open_funded, transfer, wait_for_states
from worker.sagas.devserver import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_env(temporal_address: str) -> Iterator[dict[str, str]]:
    """A fresh database and vhost, and a task queue nobody else polls."""
    with private_env("check", temporal_address) as env:
        yield env


def check(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    done = run_cli(env, "check", "--json", *args)
    assert not done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


async def wait_for_workflow(client: Client, workflow_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            await client.get_workflow_handle(workflow_id).describe()
            return
        except RPCError:
            assert time.monotonic() < deadline, f"the relay did not start {workflow_id}"
            await asyncio.sleep(0.2)


async def test_a_transfer_whose_saga_was_terminated_fails_the_check_until_restarted(
    own_env: dict[str, str], logs: Path
) -> None:
    source, target, tid = "ada", "bob", f"t-{uuid.uuid4().hex[:8]}"
    # Commands and the relay only: the saga starts but no saga worker runs its steps.
    commands = WorkerProcess(own_env, logs, args=("run", "--role", "commands")).start()
    try:
        async with BusClient(own_env["AMQP_URL"]) as bus:
            await open_funded(bus, [source, target], "50.00")
            await bus.call("TransferMoney", transfer(tid, source, target, "5.00"))
        client = await Client.connect(own_env["TEMPORAL_ADDRESS"])
        await wait_for_workflow(client, f"transfer-{tid}")

        waiting_code, waiting = check(own_env)
        await client.get_workflow_handle(f"transfer-{tid}").terminate("testing the check")
        broken_code, broken = check(own_env)
        blind_code, blind = check({**own_env, "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}"})
        skipped_code, _ = check({**own_env, "TEMPORAL_ADDRESS": "127.0.0.1:1"}, "--skip-sagas")

        sagas = WorkerProcess(own_env, logs, args=("run", "--role", "sagas")).start()
        try:
            restart = run_cli(own_env, "sagas", "retry", tid, "--reason", "terminated by a test")
            assert restart.returncode == 0, restart.stderr
            await wait_for_states(own_env["DATABASE_URL"], [tid], {"completed"})
            healed_code, healed = check(own_env)
        finally:
            sagas.stop()
    finally:
        commands.stop()

    assert (waiting_code, waiting["ok"], waiting["sagas_checked"]) == (0, True, True)
    assert (waiting["transfers_checked"], waiting["in_flight"]) == (1, "0")
    assert broken_code == 1
    assert broken["violations"] == [
        {
            "kind": "transfer_without_saga",
            "subject": tid,
            "detail": f"requested, but its saga's workflow is terminated "
            f"(`sagas retry {tid} --reason ...` restarts it)",
        }
    ]
    assert blind_code == 1
    [unreachable] = blind["violations"]
    assert unreachable["kind"] == "temporal_unreachable"
    assert unreachable["detail"].startswith("cannot reach Temporal at 127.0.0.1:")
    assert not blind["sagas_checked"]
    assert skipped_code == 0
    assert (healed_code, healed["violations"]) == (0, [])
    assert healed["totals"]["EUR"]["balances"] == "100.00"
    audit = json.loads(run_cli(own_env, "audit", "list", "--target", tid, "--json").stdout)
    assert [entry["action"] for entry in audit] == ["saga.restart"]
