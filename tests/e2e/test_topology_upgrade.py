"""The new release started on a broker the previous one set up: nothing queued is lost,
and a command with an unknown routing key, sent by a plain client, ends up in ``dlq list``
with its reason while the worker goes on."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from tests.e2e.harness import BusClient, WorkerProcess, money, open_account, run_cli
from tests.integration.previous_release import bindings, declare_previous_release, expected_bindings
from tests.services import pg_fetch, private_vhost

pytestmark = pytest.mark.e2e

UNROUTED_DLQ = "commands.unrouted.dlq"


@pytest.fixture(scope="module")
def old_url() -> Iterator[str]:
    with private_vhost(f"e2e-upgrade-{uuid.uuid4().hex[:8]}") as url:
        yield url


@pytest.fixture(scope="module")
def account() -> str:
    return f"upgraded-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def env(worker_env: dict[str, str], old_url: str, account: str) -> dict[str, str]:
    """The previous release's topology with an account opening waiting in its queue."""

    async def prepare() -> None:
        connection = await aio_pika.connect(old_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            await declare_previous_release(channel)
            exchange = await channel.get_exchange("commands", ensure=False)
            body = json.dumps(open_account(account)).encode()
            message = aio_pika.Message(body, message_id=f"open-{account}")
            await exchange.publish(message, routing_key="OpenAccount")

    asyncio.run(prepare())
    return {**worker_env, "AMQP_URL": old_url}


@pytest.fixture(scope="module")
def upgraded(env: dict[str, str], logs: Path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(env, logs, name="upgraded").start()
    yield process
    process.stop()


def listed(env: dict[str, str], *args: str) -> dict[str, list[dict[str, Any]]]:
    """The messages of the unrouted DLQ by error code, as ``dlq list --json`` shows them."""
    done = run_cli(env, "dlq", "list", "--json", *args)
    assert done.returncode == 0, done.stderr
    by_dlq = {entry["dlq"]: entry["groups"] for entry in json.loads(done.stdout)}
    return {g["error_code"]: g["messages"] for g in by_dlq[UNROUTED_DLQ]}


async def test_the_upgraded_worker_handles_what_the_old_topology_queued(
    upgraded: WorkerProcess, env: dict[str, str], database_url: str, old_url: str, account: str
) -> None:
    async with asyncio.timeout(30):
        while not await pg_fetch(database_url, "SELECT id FROM accounts WHERE id=$1", account):
            await asyncio.sleep(0.1)
    assert "replacing the exchange 'commands' of an earlier release" in upgraded.log()
    assert bindings(old_url, "commands") == expected_bindings()


async def test_a_plain_publish_with_an_unknown_key_is_listed_shown_resent_and_purged(
    upgraded: WorkerProcess, env: dict[str, str], old_url: str, account: str
) -> None:
    message_id = f"teleport-{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(old_url)
    async with connection:
        plain = await connection.channel(publisher_confirms=False)
        exchange = await plain.get_exchange("commands", ensure=False)
        body = json.dumps(money(account, "1.00")).encode()
        await exchange.publish(aio_pika.Message(body, message_id=message_id), "Teleport")
    async with BusClient(old_url) as bus:
        after = await bus.call("Deposit", money(account, "2.00"))
    assert after["status"] == "accepted", "the worker went on"

    [letter] = [m for m in listed(env)["unknown_command"] if m["message_id"] == message_id]
    assert listed(env, "--queue", "commands.unrouted")["unknown_command"]
    shown = json.loads(run_cli(env, "dlq", "show", letter["id"], "--json").stdout)
    assert "unknown command 'Teleport'" in shown["error_message"]
    assert shown["original_routing_key"] == "Teleport"
    resent = run_cli(env, "dlq", "resend", letter["id"], "--reason", "try again", "--json")
    assert resent.returncode == 1, resent.stderr
    assert "unknown_command" in resent.stderr
    [again] = [m for m in listed(env)["unknown_command"] if m["message_id"] == message_id]
    shown = json.loads(run_cli(env, "dlq", "show", again["id"], "--json").stdout)
    assert "unknown command 'Teleport'" in shown["error_message"], "the same reason"
    purged = run_cli(env, "dlq", "purge", again["id"], "--reason", "no such command")
    assert purged.returncode == 0, purged.stderr
    assert "unknown_command" not in listed(env)
    assert upgraded.process is not None and upgraded.process.poll() is None
