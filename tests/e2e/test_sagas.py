"""Transfers as sagas, end to end: AMQP in, Temporal dev server, PostgreSQL, the CLI."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.harness import BusClient, WorkerProcess, money, open_account, run_cli
from tests.services import pg_fetch

pytestmark = pytest.mark.e2e

SETTLED = {"completed", "rejected", "compensated", "resolved", "needs_operator"}


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def transfer(transfer_id: str, source: str, target: str, amount: str) -> dict[str, str]:
    return {
        "transfer_id": transfer_id,
        "from_account_id": source,
        "to_account_id": target,
        "amount": amount,
        "currency": "EUR",
    }


async def transfer_states(url: str, ids: list[str]) -> dict[str, str]:
    rows = await pg_fetch(url, "SELECT id, state FROM transfers WHERE id = ANY($1)", ids)
    return {r["id"]: r["state"] for r in rows}


async def wait_for_states(
    url: str, ids: list[str], wanted: set[str], timeout: float = 90
) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        states = await transfer_states(url, ids)
        if len(states) == len(ids) and set(states.values()) <= wanted:
            return states
        await asyncio.sleep(0.3)
    raise AssertionError(f"transfers not settled within {timeout}s: {states}")


async def balances(url: str, ids: list[str]) -> dict[str, str]:
    rows = await pg_fetch(url, "SELECT id, balance FROM accounts WHERE id = ANY($1)", ids)
    return {r["id"]: f"{r['balance']:.2f}" for r in rows}


async def open_funded(bus: BusClient, accounts: list[str], amount: str) -> None:
    for account in accounts:
        assert (await bus.call("OpenAccount", open_account(account)))["status"] == "accepted"
        assert (await bus.call("Deposit", money(account, amount)))["status"] == "accepted"


async def test_concurrent_transfers_around_a_ring_conserve_the_money(
    worker: WorkerProcess, amqp_url: str, database_url: str
) -> None:
    ring = [new_id("ring") for _ in range(6)]
    ids = [new_id("t") for _ in range(24)]
    async with BusClient(amqp_url) as bus:
        await open_funded(bus, ring, "100.00")
        pending = [
            await bus.publish(
                "TransferMoney",
                transfer(tid, ring[i % 6], ring[(i + 1) % 6], f"{1 + i % 5}.25"),
            )
            for i, tid in enumerate(ids)
        ]
        assert {(await bus.outcome(p))["status"] for p in pending} == {"accepted"}
    states = await wait_for_states(database_url, ids, {"completed"})
    assert set(states.values()) == {"completed"}
    after = await balances(database_url, ring)
    assert sum(float(b) for b in after.values()) == pytest.approx(600.00)


async def test_a_refused_withdrawal_rejects_and_a_refused_deposit_compensates(
    worker: WorkerProcess, amqp_url: str, database_url: str, worker_env: dict[str, str]
) -> None:
    poor, rich, closed = new_id("poor"), new_id("rich"), new_id("closed")
    async with BusClient(amqp_url) as bus:
        await open_funded(bus, [poor], "1.00")
        await open_funded(bus, [rich], "50.00")
        await bus.call("OpenAccount", open_account(closed))
        assert (await bus.call("CloseAccount", {"account_id": closed}))["status"] == "accepted"
    too_much, to_closed = new_id("t"), new_id("t")
    rejected = run_cli(
        worker_env,
        "send",
        "TransferMoney",
        "--json",
        json.dumps(transfer(too_much, poor, rich, "5.00")),
        "--wait-saga",
    )
    compensated = run_cli(
        worker_env,
        "send",
        "TransferMoney",
        "--json",
        json.dumps(transfer(to_closed, rich, closed, "20.00")),
        "--wait-saga",
    )
    assert (rejected.returncode, compensated.returncode) == (1, 1), (rejected, compensated)
    assert "saga rejected" in rejected.stdout
    assert "saga compensated" in compensated.stdout
    assert await balances(database_url, [poor, rich, closed]) == {
        poor: "1.00",
        rich: "50.00",
        closed: "0.00",
    }
    shown = json.loads(run_cli(worker_env, "sagas", "show", to_closed, "--json").stdout)
    assert shown["state"] == "compensated"
    steps = [(s["step"], s["status"]) for s in shown["status"]["steps"]]
    assert ("deposit", "refused") in steps
    assert ("refund", "succeeded") in steps


async def test_duplicate_transfer_messages_run_one_saga(
    worker: WorkerProcess, amqp_url: str, database_url: str, worker_env: dict[str, str]
) -> None:
    source, target = new_id("dup-src"), new_id("dup-dst")
    tid = new_id("t")
    async with BusClient(amqp_url) as bus:
        await open_funded(bus, [source, target], "10.00")
        first = await bus.publish("TransferMoney", transfer(tid, source, target, "4.00"))
        second = await bus.publish("TransferMoney", transfer(tid, source, target, "4.00"))
        changed = await bus.publish("TransferMoney", transfer(tid, source, target, "9.00"))
        assert (await bus.outcome(first))["status"] == "accepted"
        assert (await bus.outcome(second))["status"] == "accepted"
        assert (await bus.outcome(changed))["error"]["code"] == "transfer_conflict"
    await wait_for_states(database_url, [tid], {"completed"})
    assert await balances(database_url, [source, target]) == {source: "6.00", target: "14.00"}
    # Other kinds' runs (the orders') share the dev server: list the transfers.
    listed = json.loads(run_cli(worker_env, "sagas", "list", "--kind", "transfer", "--json").stdout)
    assert [s["transfer_id"] for s in listed].count(tid) == 1


async def test_a_worker_killed_in_the_middle_of_transfers_finishes_them_after_a_restart(
    worker_env: dict[str, str], logs: Path, amqp_url: str, database_url: str
) -> None:
    accounts = [new_id("kill") for _ in range(4)]
    ids = [new_id("t") for _ in range(30)]
    process = WorkerProcess(worker_env, logs).start()
    async with BusClient(amqp_url) as bus:
        await open_funded(bus, accounts, "100.00")
        for i, tid in enumerate(ids):
            await bus.publish(
                "TransferMoney",
                transfer(tid, accounts[i % 4], accounts[(i + 1) % 4], "3.00"),
                reply=False,
            )
    await asyncio.sleep(0.5)
    process.kill()
    restarted = WorkerProcess(worker_env, logs).start()
    try:
        states = await wait_for_states(database_url, ids, {"completed"}, timeout=120)
    finally:
        assert restarted.stop() == 0
    assert set(states.values()) == {"completed"}
    after = await balances(database_url, accounts)
    assert sum(float(b) for b in after.values()) == pytest.approx(400.00)
