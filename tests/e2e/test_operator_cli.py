"""Operations staff find stuck sagas with the CLI and settle them: retry, resolve, restart."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import Client

from tests.e2e.harness import BusClient, WorkerProcess, money, open_account, run_cli
from tests.e2e.test_sagas import balances, transfer, wait_for_states
from tests.services import pg_fetch
from worker.ops.audit_log import default_operator

pytestmark = pytest.mark.e2e


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def break_account(url: str, account_id: str, status: str = "bogus") -> None:
    """Make every command on the account fail like a bug would (its row no longer maps)."""
    await pg_fetch(url, "UPDATE accounts SET status=$2 WHERE id=$1", account_id, status)


@pytest.fixture(autouse=True)
async def repair_broken_accounts(database_url: str) -> AsyncIterator[None]:
    """Other tests list every account: leave none broken, whatever happened here."""
    yield
    await pg_fetch(database_url, "UPDATE accounts SET status='open' WHERE status='bogus'")


def audit_of(env: dict[str, str], transfer_id: str) -> list[dict[str, Any]]:
    """The audit records of one transfer, newest first."""
    listed = run_cli(env, "audit", "list", "--target", transfer_id, "--json")
    assert listed.returncode == 0, listed.stderr
    entries: list[dict[str, Any]] = json.loads(listed.stdout)
    return entries


def waiting_for_operator(env: dict[str, str]) -> set[str]:
    listed = run_cli(env, "sagas", "list", "--state", "needs_operator", "--json")
    assert listed.returncode == 0, listed.stderr
    return {saga["transfer_id"] for saga in json.loads(listed.stdout)}


async def wait_until_listed(env: dict[str, str], ids: set[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ids <= waiting_for_operator(env):
        if time.monotonic() > deadline:
            raise AssertionError(f"{ids} not waiting for an operator after {timeout}s")
        await asyncio.sleep(1)


async def test_an_operator_retries_a_stuck_saga_and_restarts_a_terminated_one(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str, database_url: str
) -> None:
    source, target = new_id("stuck-src"), new_id("stuck-dst")
    retried, restarted = new_id("t"), new_id("t")
    async with BusClient(amqp_url) as bus:
        for account in (source, target):
            await bus.call("OpenAccount", open_account(account))
            await bus.call("Deposit", money(account, "50.00"))
        await break_account(database_url, source)
        await bus.call("TransferMoney", transfer(retried, source, target, "5.00"))
        # A round amount: the restart must not turn it into "1E+1".
        await bus.call("TransferMoney", transfer(restarted, source, target, "10.00"))
    # The withdrawal fails like a bug would; after its retry budget the saga waits.
    await wait_until_listed(worker_env, {retried, restarted})
    shown = json.loads(run_cli(worker_env, "sagas", "show", retried, "--json").stdout)
    assert shown["status"]["waiting_step"] == "withdraw"
    assert "bogus" in shown["status"]["last_error"]
    client = await Client.connect(worker_env["TEMPORAL_ADDRESS"])
    await client.get_workflow_handle(f"transfer-{restarted}").terminate("testing a restart")
    await break_account(database_url, source, "open")

    retry = run_cli(
        worker_env, "sagas", "retry", retried, "--reason", "row repaired", "--operator", "alice"
    )
    restart = run_cli(worker_env, "sagas", "retry", restarted, "--reason", "row repaired")
    assert retry.returncode == 0, retry.stderr
    assert restart.returncode == 0, restart.stderr
    assert "restarted" in restart.stdout
    await wait_for_states(database_url, [retried, restarted], {"completed"})
    assert await balances(database_url, [source, target]) == {source: "35.00", target: "65.00"}
    steps = json.loads(run_cli(worker_env, "sagas", "show", retried, "--json").stdout)
    details = [s["detail"] for s in steps["status"]["steps"] if s["status"] == "operator"]
    assert details == ["retry by alice: row repaired"]
    [retry_record] = audit_of(worker_env, retried)
    assert (retry_record["action"], retry_record["operator"], retry_record["reason"]) == (
        "saga.retry",
        "alice",
        "row repaired",
    )
    assert retry_record["before"]["state"] == "needs_operator"
    assert retry_record["before"]["waiting_step"] == "withdraw"
    assert retry_record["after"]["execution"] == "running"
    [restart_record] = audit_of(worker_env, restarted)
    assert (restart_record["action"], restart_record["operator"]) == (
        "saga.restart",
        default_operator(),
    )
    assert restart_record["before"]["state"] == "failed"
    assert restart_record["before"]["execution"] == "terminated"
    assert restart_record["after"]["execution"] == "running"


async def test_an_operator_resolves_a_saga_whose_refund_cannot_succeed(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str, database_url: str
) -> None:
    source, target = new_id("gone-src"), new_id("broken-dst")
    tid = new_id("t")
    async with BusClient(amqp_url) as bus:
        await bus.call("OpenAccount", open_account(source))
        await bus.call("Deposit", money(source, "10.00"))
        await bus.call("OpenAccount", open_account(target))
        await break_account(database_url, target)
        await bus.call("TransferMoney", transfer(tid, source, target, "10.00"))
        # While the deposit keeps failing, the emptied source account is closed:
        # the refund will be refused.
        deadline = time.monotonic() + 30
        while (await balances(database_url, [source]))[source] != "0.00":
            assert time.monotonic() < deadline, "the withdrawal did not happen"
            await asyncio.sleep(0.2)
        closed = await bus.call("CloseAccount", {"account_id": source})
        assert closed["status"] == "accepted"
    await wait_until_listed(worker_env, {tid})
    assert (await pg_fetch(database_url, "SELECT state FROM transfers WHERE id=$1", tid))[0][
        "state"
    ] == "needs_operator"

    refused = run_cli(worker_env, "sagas", "compensate", tid, "--reason", "try again")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error:")
    assert "already compensating" in refused.stderr
    # Without a database to record it in, an operator action is refused before it acts.
    unrecorded = run_cli(
        {**worker_env, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere"},
        *("sagas", "resolve", tid, "--reason", "refunded by hand"),
    )
    assert unrecorded.returncode == 1
    assert unrecorded.stderr.startswith("error: cannot reach the database at ")
    assert unrecorded.stderr.rstrip().endswith(
        "nothing was done (an operator action needs its audit record)"
    )
    assert tid in waiting_for_operator(worker_env)
    resolved = run_cli(
        worker_env, "sagas", "resolve", tid, "--reason", "refunded by hand", "--operator", "bob"
    )
    assert resolved.returncode == 0, resolved.stderr
    await wait_for_states(database_url, [tid], {"resolved"})
    assert tid not in waiting_for_operator(worker_env)
    [record] = audit_of(worker_env, tid)  # the refused and the unrecorded ones left none
    assert (record["action"], record["operator"], record["reason"]) == (
        "saga.resolve",
        "bob",
        "refunded by hand",
    )
    assert record["before"]["waiting_step"] == "refund"
