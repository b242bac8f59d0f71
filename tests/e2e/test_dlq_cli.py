"""Operators work the DLQ through the CLI, against a real worker, broker and database."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest

from tests.e2e.harness import BusClient, WorkerProcess, money, open_account, run_cli
from tests.services import pg_fetch

pytestmark = pytest.mark.e2e

DLQ = "accounts.commands.dlq"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def dlq(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(env, "dlq", *args)


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.stdout, done.stderr
    return json.loads(done.stdout)


def worker_record(code: str, command: str = "Deposit") -> dict[str, Any]:
    """The failure record the worker writes on a dead letter (see headers.py)."""
    return {
        "dlq-id": uuid.uuid4().hex[:12],
        "failure-class": "transient",
        "error-code": code,
        "error-message": "ConnectionRefusedError: the database is down",
        "exception-type": "ConnectionRefusedError",
        "original-queue": "accounts.commands",
        "original-exchange": "commands",
        "original-routing-key": command,
        "command": command,
        "attempts": 7,
        "failed-at": datetime.now(UTC).isoformat(),
    }


async def put_in_dlq(
    bus: BusClient, body: dict[str, Any], headers: dict[str, Any], message_id: str | None = None
) -> str:
    """A dead letter as the worker would have left it; returns its DLQ id."""
    await bus.channel.default_exchange.publish(
        aio_pika.Message(
            json.dumps(body).encode(),
            content_type="application/json",
            message_id=message_id or uuid.uuid4().hex,
            headers=headers,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        ),
        routing_key=DLQ,
    )
    return str(headers.get("dlq-id", ""))


def groups(env: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """The messages of accounts.commands.dlq by error code, as `dlq list --json` shows them."""
    listed = as_json(dlq(env, "list", "--queue", "accounts.commands", "--json"))
    assert [entry["dlq"] for entry in listed] == [DLQ]
    return {g["error_code"]: g["messages"] for g in listed[0]["groups"]}


async def balance(database_url: str, account: str) -> str:
    rows = await pg_fetch(database_url, "SELECT balance FROM accounts WHERE id=$1", account)
    return f"{rows[0]['balance']:.2f}"


async def audit_rows(database_url: str, target: str) -> list[dict[str, Any]]:
    """The audit table's records of ``target`` (read directly: each CLI run costs a second)."""
    rows = await pg_fetch(
        database_url,
        "SELECT action, operator, reason, before, after FROM audit_log WHERE target=$1",
        target,
    )
    loaded = ("before", "after")
    return [{k: json.loads(v) if k in loaded else v for k, v in row.items()} for row in rows]


async def test_what_the_worker_dead_lettered_is_listed_by_group_and_shown_without_taking_it(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str
) -> None:
    bad_amount, broken = new_id("bad-amount"), new_id("broken")
    async with BusClient(amqp_url) as bus:
        await bus.call("Deposit", money("zed", "1.001"), message_id=bad_amount)
        await bus.outcome(
            await bus.publish("Deposit", b'{"account_id": "zed", "amount":', message_id=broken)
        )
        death = {"reason": "delivery_limit", "queue": "accounts.commands", "count": 1}
        await put_in_dlq(bus, money("zed", "1.00"), {"x-death": [death]}, new_id("looped"))

    for _ in range(2):  # looking twice: nothing was taken away
        found = groups(worker_env)
        schema = {m["message_id"]: m for m in found["schema_validation_failed"]}
        assert schema[bad_amount]["failure_class"] == "invalid"
        assert broken in {m["message_id"] for m in found["malformed_json"]}
        assert {m["failure_class"] for m in found["delivery_limit"]} == {"bug"}

    shown = as_json(dlq(worker_env, "show", schema[bad_amount]["id"], "--json"))
    assert shown["body"] == money("zed", "1.001"), "the body, untouched, as JSON"
    assert shown["headers"]["original-queue"] == "accounts.commands"
    assert "EUR allows 2 decimal places" in shown["error_message"]
    text = dlq(worker_env, "show", found["malformed_json"][0]["id"])
    assert text.returncode == 0, text.stderr
    assert "body:\nb'{" in text.stdout, "a body that is not JSON shows as bytes"
    listing = dlq(worker_env, "list")
    assert "schema_validation_failed" in listing.stdout


async def test_a_dead_letter_sent_back_is_applied_once_with_its_message_id_and_leaves_the_dlq(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str, database_url: str
) -> None:
    account, message_id = new_id("retried"), new_id("deposit")
    async with BusClient(amqp_url) as bus:
        await bus.call("OpenAccount", open_account(account))
        body = money(account, "5.00")
        first = await put_in_dlq(bus, body, worker_record("dependency_unavailable"), message_id)
        copy = await put_in_dlq(bus, body, worker_record("dependency_unavailable"), message_id)

    retried = dlq(
        worker_env, "retry", first, "--reason", "db back", "--operator", "alice", "--json"
    )
    assert retried.returncode == 0, retried.stderr
    report = json.loads(retried.stdout)
    assert report["outcomes"][0]["outcome"]["status"] == "accepted"
    assert report["outcomes"][0]["outcome"]["message_id"] == message_id
    again = dlq(worker_env, "retry", copy, "--reason", "duplicate copy")
    assert again.returncode == 0, again.stderr
    assert "1 accepted" in again.stdout

    assert await balance(database_url, account) == "5.00", "the duplicate changed nothing"
    rows = await pg_fetch(database_url, "SELECT status FROM inbox WHERE message_id=$1", message_id)
    assert [row["status"] for row in rows] == ["accepted"]
    gone = dlq(worker_env, "show", first)
    assert gone.returncode == 1 and "no dead letter" in gone.stderr
    [entry] = as_json(run_cli(worker_env, "audit", "list", "--target", first, "--json"))
    assert (entry["action"], entry["operator"], entry["reason"]) == (
        "dlq.retry",
        "alice",
        "db back",
    )
    assert (entry["before"]["status"], entry["after"]["status"]) == ("dead_lettered", "accepted")
    assert entry["before"]["letter"]["headers"]["error-code"] == "dependency_unavailable"


async def test_a_bulk_retry_ramps_up_and_empties_its_group(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str, database_url: str
) -> None:
    account, code = new_id("bulk"), new_id("test_outage")
    async with BusClient(amqp_url) as bus:
        await bus.call("OpenAccount", open_account(account))
        for _ in range(7):
            await put_in_dlq(bus, money(account, "1.00"), worker_record(code))

    done = dlq(worker_env, "retry", "--group", code, "--rate", "100/s", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["accepted"], report["left_in_dlq"], report["stopped"]) == (7, 0, None)
    assert await balance(database_url, account) == "7.00"
    assert code not in groups(worker_env)


async def test_a_bulk_retry_stops_when_messages_fail_again_and_leaves_the_rest(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str
) -> None:
    code, message_ids = new_id("test_bad"), [new_id("bad") for _ in range(5)]
    async with BusClient(amqp_url) as bus:
        for message_id in message_ids:
            await put_in_dlq(bus, money("zed", "1.001"), worker_record(code), message_id)

    done = dlq(worker_env, "retry", "--group", code, "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert (report["sent"], report["failed_again"], report["left_in_dlq"]) == (1, 1, 4)
    assert "stopped: 1 message(s) failed again (invalid: schema_validation_failed" in done.stderr
    found = groups(worker_env)
    assert len(found[code]) == 4
    failed_again = [m for m in found["schema_validation_failed"] if m["message_id"] in message_ids]
    assert len(failed_again) == 1, "the one that failed again is back, with the worker's reason"


async def test_an_edit_fixes_a_malformed_amount_but_never_the_account(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str, database_url: str
) -> None:
    account, message_id = new_id("edited"), new_id("typo")
    async with BusClient(amqp_url) as bus:
        await bus.call("OpenAccount", open_account(account))
        outcome = await bus.call("Deposit", money(account, "1.001"), message_id=message_id)
    assert outcome["status"] == "invalid"
    [letter] = [
        m for m in groups(worker_env)["schema_validation_failed"] if m["message_id"] == message_id
    ]

    refused = dlq(worker_env, "edit", letter["id"], "--set", "account_id=someone-else")
    assert refused.returncode == 2
    assert "account_id is an identity field and cannot change" in refused.stderr
    edited = dlq(worker_env, "edit", letter["id"], "--set", "amount=1.00", "--reason", "typo")
    assert edited.returncode == 0, edited.stderr
    assert await balance(database_url, account) == "1.00"
    [entry] = await audit_rows(database_url, letter["id"])
    assert entry["action"] == "dlq.edit"
    assert json.loads(entry["before"]["body"])["amount"] == "1.001", "the original is kept"
    assert json.loads(entry["after"]["body"])["amount"] == "1.00"


async def test_a_purge_needs_a_reason_and_keeps_the_whole_message_in_the_audit_log(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str, database_url: str
) -> None:
    async with BusClient(amqp_url) as bus:
        doomed = await put_in_dlq(bus, money("zed", "9.99"), worker_record("test_purge"))

    unexplained = dlq(worker_env, "purge", doomed)
    assert unexplained.returncode == 2 and "--reason" in unexplained.stderr
    purged = dlq(worker_env, "purge", doomed, "--reason", "test data")
    assert purged.returncode == 0, purged.stderr
    assert dlq(worker_env, "show", doomed).returncode == 1
    [entry] = await audit_rows(database_url, doomed)
    assert (entry["action"], entry["reason"]) == ("dlq.purge", "test data")
    assert json.loads(entry["before"]["letter"]["body"]) == money("zed", "9.99")


async def test_an_action_is_refused_before_touching_the_dlq_when_the_audit_cannot_be_written(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str
) -> None:
    async with BusClient(amqp_url) as bus:
        kept = await put_in_dlq(bus, money("zed", "1.00"), worker_record("test_no_audit"))
    no_database = {**worker_env, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/none"}

    for args in (["retry", kept], ["purge", kept, "--reason", "x"], ["edit", kept, "--set", "a=1"]):
        refused = dlq(no_database, *args)
        assert refused.returncode == 1
        assert "nothing was done" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert dlq(worker_env, "show", kept).returncode == 0, "still there, untouched"
