"""The worker survives a broker restart, a database restart and SIGTERM, losing nothing."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.harness import BusClient, WorkerProcess, money, open_account
from tests.services import pg_fetch

pytestmark = pytest.mark.e2e


def pg_cluster(action: str) -> None:
    version = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True).stdout
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version.split()[0], "main", action],
        check=True,
    )


def consumers_on(vhost: str, queue: str) -> int:
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "consumers"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts = dict(line.split("\t") for line in listed.splitlines() if "\t" in line)
    return int(counts.get(queue, 0))


async def wait_for_balance(url: str, account: str, balance: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    current = None
    while time.monotonic() < deadline:
        try:
            rows = await pg_fetch(url, "SELECT balance FROM accounts WHERE id=$1", account)
            current = f"{rows[0]['balance']:.2f}" if rows else None
        except OSError:
            current = None
        if current == balance:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{account} holds {current}, expected {balance}")


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout}s")
        await asyncio.sleep(0.5)


async def unsent_events(url: str) -> int:
    rows = await pg_fetch(url, "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL")
    return int(rows[0]["n"])


async def deposit_many(amqp_url: str, account: str, count: int) -> None:
    async with BusClient(amqp_url) as bus:
        for _ in range(count):
            await bus.publish("Deposit", money(account, "1.00"), reply=False)


async def test_the_worker_reconnects_after_a_broker_restart_and_loses_nothing(
    worker_env: dict[str, str], logs: Path, amqp_url: str, database_url: str
) -> None:
    account = f"rmq-{uuid.uuid4().hex[:8]}"
    vhost = amqp_url.rsplit("/", 1)[1]
    worker = WorkerProcess(worker_env, logs).start()
    try:
        async with BusClient(amqp_url) as bus:
            await bus.call("OpenAccount", open_account(account))
        await deposit_many(amqp_url, account, 100)
        subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True)
        subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True)
        subprocess.run(["rabbitmqctl", "-q", "await_startup"], check=True)
        worker.wait_for_log("ready:", count=2, timeout=60)
        await wait_for(lambda: consumers_on(vhost, "accounts.commands") == 1, "a consumer again")
        await deposit_many(amqp_url, account, 100)
        await wait_for_balance(database_url, account, "200.00")
        deadline = time.monotonic() + 30
        while await unsent_events(database_url) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert await unsent_events(database_url) == 0, "the outbox catches up"
    finally:
        assert worker.stop() == 0


async def test_the_worker_waits_out_a_database_restart_without_dead_lettering(
    worker_env: dict[str, str], logs: Path, amqp_url: str, database_url: str
) -> None:
    account = f"pg-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(worker_env, logs).start()
    try:
        async with BusClient(amqp_url) as bus:
            await bus.call("OpenAccount", open_account(account))
        pg_cluster("stop")
        try:
            await deposit_many(amqp_url, account, 30)
            worker.wait_for_log("transient failure", timeout=30)
            await asyncio.sleep(3)
        finally:
            pg_cluster("start")
        await wait_for_balance(database_url, account, "30.00")
        async with BusClient(amqp_url) as bus:
            assert (await bus.call("Deposit", money(account, "1.00")))["status"] == "accepted"
            dead = await bus.drain("accounts.commands.dlq", 1000, timeout=1)
        await wait_for_balance(database_url, account, "31.00")
        assert not [m for m in dead if account.encode() in m.body]
    finally:
        assert worker.stop() == 0


async def test_sigterm_finishes_or_returns_in_flight_messages_and_loses_none(
    worker_env: dict[str, str], logs: Path, amqp_url: str, database_url: str
) -> None:
    account = f"term-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(worker_env, logs).start()
    async with BusClient(amqp_url) as bus:
        await bus.call("OpenAccount", open_account(account))
    await deposit_many(amqp_url, account, 300)
    assert worker.stop() == 0
    assert "stopping: finishing in-flight messages" in worker.log()
    restarted = WorkerProcess(worker_env, logs).start()
    try:
        await wait_for_balance(database_url, account, "300.00")
    finally:
        assert restarted.stop() == 0


async def test_the_worker_runs_on_the_embedded_sqlite_database(
    worker_env: dict[str, str], logs: Path, amqp_url: str, tmp_path: Path
) -> None:
    env = {**worker_env, "DATABASE_URL": f"sqlite://{tmp_path}/embedded.sqlite3"}
    worker = WorkerProcess(env, logs, args=("run", "--migrate")).start()
    account = f"lite-{uuid.uuid4().hex[:8]}"
    try:
        async with BusClient(amqp_url) as bus:
            assert (await bus.call("OpenAccount", open_account(account)))["status"] == "accepted"
            ids = [await bus.publish("Deposit", money(account, "2.50")) for _ in range(20)]
            assert {(await bus.outcome(i))["status"] for i in ids} == {"accepted"}
    finally:
        assert worker.stop() == 0
    assert (tmp_path / "embedded.sqlite3").exists()


async def test_a_deleted_command_queue_is_declared_again_and_consumed(
    worker_env: dict[str, str], logs: Path, amqp_url: str
) -> None:
    vhost = amqp_url.rsplit("/", 1)[1]
    worker = WorkerProcess(worker_env, logs).start()
    try:
        subprocess.run(
            ["rabbitmqctl", "-q", "delete_queue", "-p", vhost, "accounts.commands"], check=True
        )
        worker.wait_for_log("ready:", count=2, timeout=30)
        account = f"again-{uuid.uuid4().hex[:8]}"
        async with BusClient(amqp_url) as bus:
            assert (await bus.call("OpenAccount", open_account(account)))["status"] == "accepted"
    finally:
        assert worker.stop() == 0
    assert "broker cancelled a consumer" in worker.log()
