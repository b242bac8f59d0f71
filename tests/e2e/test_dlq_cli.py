"""Operators work the DLQ through the CLI, against a real worker, broker and database."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlparse

import aio_pika
import pytest

from tests import hostile_amqp as raw
from tests.e2e.harness import ROOT, BusClient, WorkerProcess, money, open_account, run_cli
from tests.services import pg_fetch
from worker.ops.dlq.session import CONNECTION_NAME

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
        "SELECT action, operator, reason, before, after FROM audit_log WHERE target=$1 ORDER BY id",
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
        worker_env, "resend", first, "--reason", "db back", "--operator", "alice", "--json"
    )
    assert retried.returncode == 0, retried.stderr
    report = json.loads(retried.stdout)
    assert report["outcomes"][0]["outcome"]["status"] == "accepted"
    assert report["outcomes"][0]["outcome"]["message_id"] == message_id
    again = dlq(worker_env, "resend", copy, "--reason", "duplicate copy")
    assert again.returncode == 0, again.stderr
    assert "1 accepted" in again.stdout

    assert await balance(database_url, account) == "5.00", "the duplicate changed nothing"
    rows = await pg_fetch(database_url, "SELECT status FROM inbox WHERE message_id=$1", message_id)
    assert [row["status"] for row in rows] == ["accepted"]
    gone = dlq(worker_env, "show", first)
    assert gone.returncode == 1 and "no dead letter" in gone.stderr
    outcome, sent = as_json(run_cli(worker_env, "audit", "list", "--target", first, "--json"))
    assert (sent["action"], sent["operator"], sent["reason"]) == ("dlq.retry", "alice", "db back")
    assert (sent["before"]["status"], sent["after"]["status"]) == ("dead_lettered", "sent")
    assert sent["before"]["letter"]["headers"]["error-code"] == "dependency_unavailable"
    assert json.loads(sent["before"]["letter"]["body"]) == body, "the whole letter"
    assert (outcome["action"], outcome["after"]["status"]) == ("dlq.retry.outcome", "accepted")


async def test_a_bulk_retry_ramps_up_and_empties_its_group(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str, database_url: str
) -> None:
    account, code = new_id("bulk"), new_id("test_outage")
    async with BusClient(amqp_url) as bus:
        await bus.call("OpenAccount", open_account(account))
        for _ in range(7):
            await put_in_dlq(bus, money(account, "1.00"), worker_record(code))

    done = dlq(worker_env, "resend", "--group", code, "--rate", "100/s", "--json")
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

    done = dlq(worker_env, "resend", "--group", code, "--json")
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
    sent, outcome = await audit_rows(database_url, letter["id"])
    assert (sent["action"], sent["after"]["status"]) == ("dlq.edit", "sent")
    assert json.loads(sent["before"]["letter"]["body"])["amount"] == "1.001", "the original"
    assert json.loads(sent["after"]["body"])["amount"] == "1.00"
    assert (outcome["action"], outcome["after"]["status"]) == ("dlq.edit.outcome", "accepted")


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

    for args in (
        ["resend", kept],
        ["purge", kept, "--reason", "x"],
        ["edit", kept, "--set", "a=1"],
    ):
        refused = dlq(no_database, *args)
        assert refused.returncode == 1
        assert "nothing was done" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert dlq(worker_env, "show", kept).returncode == 0, "still there, untouched"


@contextmanager
def running_cli(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[str]]:
    """``python -m worker ARGS`` in the background; killed if still running after."""
    process = subprocess.Popen(
        [sys.executable, "-m", "worker", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


async def audited(database_url: str, targets: list[str], count: int) -> list[dict[str, Any]]:
    """The audit records of ``targets``, once there are ``count`` of them."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = [row for target in targets for row in await audit_rows(database_url, target)]
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {count} audit record(s) of {targets} within 60 s")


def rabbitmqctl(*args: str) -> str:
    return subprocess.run(
        ["rabbitmqctl", "-s", *args], check=True, capture_output=True, text=True
    ).stdout


def vhost_of(amqp_url: str) -> str:
    return unquote(urlparse(amqp_url).path.lstrip("/"))


async def dlq_holds(amqp_url: str, count: int) -> None:
    """Wait until the DLQ holds ``count`` messages, ready or delivered but not acked."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in rabbitmqctl(
            "list_queues", "-p", vhost_of(amqp_url), "name", "messages"
        ).splitlines():
            if line.split("\t") == [DLQ, str(count)]:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{DLQ} never held {count} messages")


def close_cli_connections(amqp_url: str) -> None:
    """Have the broker close the dlq command's connection(s) on this test's vhost."""
    vhost = vhost_of(amqp_url)
    listed = rabbitmqctl("list_connections", "pid", "vhost", "client_properties")
    pids = [
        line.split("\t")[0]
        for line in listed.splitlines()
        if line.split("\t")[1:2] == [vhost] and f'"{CONNECTION_NAME}"' in line
    ]
    assert pids, f"no {CONNECTION_NAME!r} connection on {vhost}"
    for pid in pids:
        rabbitmqctl("close_connection", pid, "the test closes it")


async def scratch_queue(bus: BusClient) -> str:
    """A queue no worker consumes: what is sent back to it waits there, unanswered."""
    name = new_id("scratch.commands")
    await bus.channel.declare_queue(name, durable=True)
    return name


async def test_a_letter_without_a_message_id_of_its_own_is_never_sent_back(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str
) -> None:
    async with BusClient(amqp_url) as bus:
        record = worker_record("missing_message_id")
        # The id a client library made up when the sender left it empty.
        anonymous = await put_in_dlq(bus, money("zed", "1.00"), record, uuid.uuid4().hex)

    for args in (["resend", anonymous], ["resend", "--group", "missing_message_id"]):
        refused = dlq(worker_env, *args)
        assert refused.returncode == 1
        assert refused.stderr.startswith("error: not sent back: ") and anonymous in refused.stderr
        assert "no message id of its own, or properties that could not be read" in refused.stderr
    edited = dlq(worker_env, "edit", anonymous, "--set", "amount=2.00")
    assert edited.returncode == 1 and "no message id of its own" in edited.stderr
    assert dlq(worker_env, "show", anonymous).returncode == 0, "still in the DLQ"


async def test_a_letter_the_client_library_cannot_decode_is_listed_shown_and_purged(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str
) -> None:
    """As the broker leaves a poison message after its delivery limit: no record of ours."""
    properties = raw.encode_properties(
        content_type="application/json",
        headers={"x-death": []},
        message_id=b"\xffpoison",
        timestamp=2**63 - 1,
    )
    body = json.dumps(money("zed", "1.00")).encode()
    await asyncio.to_thread(raw.publish_raw, amqp_url, "", DLQ, body, properties)

    [letter] = groups(worker_env)["undecodable_properties"]
    assert "message_id" in letter["error_message"] and "timestamp" in letter["error_message"]
    shown = as_json(dlq(worker_env, "show", letter["id"], "--json"))
    assert shown["body"] == money("zed", "1.00")
    undecoded = {"message_id": None, "timestamp": None, "content_type": "application/json"}
    assert undecoded.items() <= shown["properties"].items()
    refused = dlq(worker_env, "resend", letter["id"])
    assert refused.returncode == 1 and "properties that could not be read" in refused.stderr
    purged = dlq(worker_env, "purge", letter["id"], "--reason", "poison")
    assert purged.returncode == 0, purged.stderr
    assert dlq(worker_env, "show", letter["id"]).returncode == 1, "gone"


async def test_editing_a_copy_whose_message_id_was_processed_is_refused_as_changing_nothing(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str, database_url: str
) -> None:
    account, message_id = new_id("processed"), new_id("deposit")
    async with BusClient(amqp_url) as bus:
        await bus.call("OpenAccount", open_account(account))
        stale = await put_in_dlq(
            bus, money(account, "5.00"), worker_record("dependency_unavailable"), message_id
        )
        await bus.call("Deposit", money(account, "5.00"), message_id=message_id)  # re-sent

    edited = dlq(worker_env, "edit", stale, "--set", "amount=7.00")
    assert edited.returncode == 1
    assert f"message id {message_id} was already processed (accepted)" in edited.stderr
    assert "an edit would change nothing; nothing was sent" in edited.stderr
    assert await balance(database_url, account) == "5.00"
    assert await audit_rows(database_url, stale) == []
    assert dlq(worker_env, "show", stale).returncode == 0


async def test_a_bulk_retry_browses_in_chunks_and_leaves_the_letters_it_did_not_choose(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str, database_url: str
) -> None:
    account, chosen, other = new_id("chunked"), new_id("test_chunk"), new_id("test_other")
    async with BusClient(amqp_url) as bus:
        await bus.call("OpenAccount", open_account(account))
        for n in range(5):
            await put_in_dlq(bus, money(account, "1.00"), worker_record(chosen))
            if n % 2 == 0:
                await put_in_dlq(bus, money(account, "9.00"), worker_record(other))

    done = dlq(worker_env, "resend", "--group", chosen, "--chunk-size", "2", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["accepted"], report["left_in_dlq"], report["chunks"]) == (5, 0, 3)
    assert await balance(database_url, account) == "5.00"
    found = groups(worker_env)
    assert chosen not in found and len(found[other]) == 3, "released between chunks, untouched"


async def test_a_retry_whose_record_cannot_be_written_keeps_the_dlq_copy_and_stops(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str, database_url: str
) -> None:
    account = new_id("unrecorded")
    async with BusClient(amqp_url) as bus:
        await bus.call("OpenAccount", open_account(account))
        kept = await put_in_dlq(bus, money(account, "5.00"), worker_record("test_no_record"))
    refuse = f"ALTER TABLE audit_log ADD CONSTRAINT refuse_{kept} CHECK (target <> '{kept}')"
    await pg_fetch(database_url, refuse)
    try:
        stopped = dlq(worker_env, "resend", kept)
    finally:
        await pg_fetch(database_url, f"ALTER TABLE audit_log DROP CONSTRAINT refuse_{kept}")

    assert stopped.returncode == 1 and len(stopped.stderr.splitlines()) == 1
    assert stopped.stderr.startswith(f"error: stopped: the audit record of dlq.retry {kept}")
    assert f"{kept} sent back but still in the DLQ too" in stopped.stderr
    assert dlq(worker_env, "show", kept).returncode == 0, "the copy is back in the DLQ"
    again = dlq(worker_env, "resend", kept, "--json")
    assert again.returncode == 0, again.stderr
    assert await balance(database_url, account) == "5.00", "the inbox absorbed the duplicate"
    assert [row["action"] for row in await audit_rows(database_url, kept)] == [
        "dlq.retry",
        "dlq.retry.outcome",
    ]


async def test_an_edit_killed_while_it_awaits_the_outcome_has_recorded_the_original(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str, database_url: str
) -> None:
    async with BusClient(amqp_url) as bus:
        scratch = await scratch_queue(bus)
        record = {**worker_record("test_killed"), "original-queue": scratch}
        letter = await put_in_dlq(bus, money("zed", "1.001"), record)

    args = ("dlq", "edit", letter, "--set", "amount=1.00", "--watch-timeout", "600")
    with running_cli(worker_env, *args) as cli:
        [sent] = await audited(database_url, [letter], 1)
        cli.kill()
    assert (sent["action"], sent["after"]["status"]) == ("dlq.edit", "sent")
    assert json.loads(sent["before"]["letter"]["body"]) == money("zed", "1.001")
    async with BusClient(amqp_url) as bus:
        queue = await bus.channel.get_queue(scratch, ensure=False)
        copy = await queue.get(fail=False)
        assert copy is not None and json.loads(copy.body)["amount"] == "1.00"
        await queue.delete(if_unused=False, if_empty=False)


async def test_a_connection_closed_mid_retry_ends_it_with_one_line_saying_what_was_sent(
    worker: WorkerProcess, worker_env: dict[str, str], amqp_url: str, database_url: str
) -> None:
    code = new_id("test_cut")
    async with BusClient(amqp_url) as bus:
        scratch = await scratch_queue(bus)
        record = {"original-queue": scratch}
        letters = [
            await put_in_dlq(bus, money("zed", "1.00"), {**worker_record(code), **record})
            for _ in range(3)
        ]
        dlq_queue = await bus.channel.declare_queue(DLQ, passive=True)
        held = dlq_queue.declaration_result.message_count or 0

    # `dlq retry`, the name before `resend`, still works for scripts written against it.
    with running_cli(worker_env, "dlq", "retry", "--group", code, "--watch-timeout", "600") as cli:
        [sent] = await audited(database_url, letters, 1)
        await dlq_holds(amqp_url, held - 1)  # the first one's DLQ copy is removed
        close_cli_connections(amqp_url)
        _, stderr = cli.communicate(timeout=60)
    assert cli.returncode == 1 and len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("error: stopped: the connection to RabbitMQ broke")
    assert "1 sent back and recorded before that; 1 of them without an outcome yet" in stderr
    assert stderr.rstrip().endswith("2 left in the DLQ")
    assert sent["after"]["status"] == "sent"
    assert len(groups(worker_env)[code]) == 2
