"""At-least-once delivery, exactly-once effect: crashes, duplicates and concurrency."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest

from tests.e2e.harness import BusClient, WorkerProcess, money, open_account, run_cli
from tests.services import pg_fetch

pytestmark = pytest.mark.e2e


def account_of(env: dict[str, str], account_id: str) -> dict[str, object]:
    shown = run_cli(env, "accounts", "show", account_id, "--json")
    assert shown.returncode == 0, shown.stderr
    result: dict[str, object] = json.loads(shown.stdout)
    return result


async def test_a_worker_killed_between_commit_and_ack_applies_the_redelivery_once(
    worker_env: dict[str, str], logs: Path, amqp_url: str, database_url: str
) -> None:
    fred = f"fred-{uuid.uuid4().hex[:8]}"
    crash_id = f"crash-{fred}"
    crashing = WorkerProcess({**worker_env, "TEST_CRASH_AFTER_COMMIT": crash_id}, logs).start()
    async with BusClient(amqp_url) as bus:
        await bus.call("OpenAccount", open_account(fred))
        events = await bus.subscribe_events("accounts.*")
        await bus.publish("Deposit", money(fred, "25.00"), message_id=crash_id)
        assert crashing.wait_exit() == 75, "the hook exits after the commit, before the ack"

        restarted = WorkerProcess(worker_env, logs).start()
        try:
            seen = []
            async with events.iterator(timeout=20) as stream:
                async for message in stream:
                    await message.ack()
                    if message.headers["aggregate-id"] == fred:
                        seen.append(message.type)
                    if "accounts.MoneyDeposited" in seen:
                        break
            restarted.wait_for_log(f"message_id={crash_id}")
        finally:
            restarted.stop()

    assert f"message_id={crash_id} correlation_id" in restarted.log()
    assert "outcome=accepted (duplicate)" in restarted.log()
    assert account_of(worker_env, fred)["balance"] == "25.00"
    rows = await pg_fetch(
        database_url, "SELECT count(*) AS n FROM outbox WHERE aggregate_id=$1", fred
    )
    assert rows[0]["n"] == 2, "one AccountOpened and one MoneyDeposited, not two deposits"


async def test_two_hundred_concurrent_deposits_from_two_workers_end_at_the_exact_sum(
    worker_env: dict[str, str], logs: Path, amqp_url: str, database_url: str
) -> None:
    hot = f"hot-{uuid.uuid4().hex[:8]}"
    workers = [WorkerProcess(worker_env, logs, f"w{i}").start() for i in range(2)]
    try:
        async with BusClient(amqp_url) as bus:
            await bus.call("OpenAccount", open_account(hot))
            ids = [
                await bus.publish("Deposit", money(hot, f"{1 + i % 7}.{i % 100:02d}"))
                for i in range(200)
            ]
            outcomes = await asyncio.gather(*(bus.outcome(i, timeout=120) for i in ids))
    finally:
        for w in workers:
            assert w.stop() == 0
    assert {o["status"] for o in outcomes} == {"accepted"}
    expected = sum(1 + i % 7 + (i % 100) / 100 for i in range(200))
    account = account_of(worker_env, hot)
    assert account["balance"] == f"{expected:.2f}"
    assert account["version"] == 201
    handled = [w.log().count("outcome=accepted") for w in workers]
    assert all(handled), f"both workers took part: {handled}"
    versions = await pg_fetch(
        database_url,
        "SELECT aggregate_version AS v FROM outbox WHERE aggregate_id=$1 ORDER BY id",
        hot,
    )
    assert [r["v"] for r in versions] == list(range(1, 202))


async def test_events_arrive_on_domain_events_in_aggregate_version_order_with_their_headers(
    worker: WorkerProcess, amqp_url: str
) -> None:
    accounts = [f"ord-{i}-{uuid.uuid4().hex[:6]}" for i in range(3)]
    async with BusClient(amqp_url) as bus:
        events = await bus.subscribe_events("accounts.#")
        for account in accounts:
            await bus.call("OpenAccount", open_account(account), message_id=f"open-{account}")
        pending = [
            await bus.publish("Deposit", money(a, "1.00")) for _ in range(20) for a in accounts
        ]
        await asyncio.gather(*(bus.outcome(p) for p in pending))
        received: dict[str, list[int]] = {a: [] for a in accounts}
        async with events.iterator(timeout=20) as stream:
            async for message in stream:
                await message.ack()
                headers = message.headers
                received[str(headers["aggregate-id"])].append(int(headers["aggregate-version"]))
                if message.type == "accounts.AccountOpened":
                    body = json.loads(message.body)
                    assert body["account_id"] == headers["aggregate-id"]
                    assert {"owner", "currency", "occurred_at"} <= body.keys()
                    assert message.routing_key == "accounts.AccountOpened"
                    assert headers["causation-id"] == f"open-{headers['aggregate-id']}"
                    assert message.message_id and message.correlation_id
                if sum(map(len, received.values())) == 63:
                    break
    for account in accounts:
        assert received[account] == list(range(1, 22)), account
