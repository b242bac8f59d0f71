"""Copies of real events published by hand to ``account_statement.events``: duplicates, a
tampered body, whole bursts in reverse version order. A delivery only names its event
(the message id), so the statement comes out of the log, once, in version order.

The copies are built from the ``event_log`` rows as the relay publishes them. The
keeper's catch-up is pushed out of reach: only deliveries apply events here.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel

from tests.e2e.harness import BusClient, WorkerProcess, money, open_account, run_cli
from tests.e2e.private_env import private_env
from tests.services import pg_fetch

pytestmark = pytest.mark.e2e

HANDLER = "account_statement"
QUEUE = f"{HANDLER}.events"
MONEY = ("accounts.MoneyDeposited", "accounts.MoneyWithdrawn")
OUTCOME = re.compile(rf"handler={HANDLER} event=\S+ event_id=(\S+) outcome=(\w+)")


@pytest.fixture(scope="module")
def env(temporal_address: str) -> Iterator[dict[str, str]]:
    with private_env("copies", temporal_address) as created:
        # DEBUG: each delivery's outcome is logged. Catch-up far away: no safety net.
        yield {**created, "LOG_LEVEL": "DEBUG", "HANDLER_CATCH_UP_SECONDS": "600"}


@pytest.fixture(scope="module")
def worker(env: dict[str, str], logs: Path) -> Iterator[WorkerProcess]:
    """Every role; a test may stop it and start it again (its log goes on in one file)."""
    process = WorkerProcess(env, logs, "copies").start()
    yield process
    assert process.stop() == 0, process.log()


@pytest.fixture
async def bus(env: dict[str, str], worker: WorkerProcess) -> AsyncIterator[BusClient]:
    async with BusClient(env["AMQP_URL"]) as client:
        yield client


async def moved(bus: BusClient, account: str, amounts: list[str]) -> None:
    """Deposit each positive amount, withdraw each negative one; all accepted."""
    for amount in amounts:
        command = "Withdraw" if amount.startswith("-") else "Deposit"
        reply = await bus.call(command, money(account, amount.lstrip("-")))
        assert reply["status"] == "accepted", reply


async def logged(env: dict[str, str], account: str, count: int) -> list[dict[str, Any]]:
    """The account's ``count`` money events in the log, in version order (the relay gives
    positions shortly after the commit: wait for them)."""
    sql = (
        "SELECT * FROM event_log WHERE aggregate_id = $1 AND event_type = ANY($2::text[]) "
        "ORDER BY aggregate_version"
    )
    deadline = time.monotonic() + 10
    while len(rows := await pg_fetch(env["DATABASE_URL"], sql, account, list(MONEY))) < count:
        assert time.monotonic() < deadline, f"{len(rows)} of {count} events logged"
        await asyncio.sleep(0.05)
    return [dict(row) for row in rows]


async def all_sent(env: dict[str, str], account: str) -> None:
    """Wait until the relay has published every event of ``account`` (the broker confirmed)."""
    sql = "SELECT count(*) AS n FROM outbox WHERE aggregate_id = $1 AND sent_at IS NULL"
    deadline = time.monotonic() + 10
    while (await pg_fetch(env["DATABASE_URL"], sql, account))[0]["n"]:
        assert time.monotonic() < deadline, f"events of {account} not published"
        await asyncio.sleep(0.05)


def copy_of(row: dict[str, Any], payload: dict[str, Any] | None = None) -> aio_pika.Message:
    """The message the relay publishes for ``row``; given ``payload``, with that body."""
    body = row["payload"] if payload is None else json.dumps(payload)
    return aio_pika.Message(
        body.encode(),
        content_type="application/json",
        message_id=row["event_id"],
        type=row["event_type"],
        correlation_id=row["correlation_id"],
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        headers={
            "causation-id": row["causation_id"],
            "aggregate-id": row["aggregate_id"],
            "aggregate-version": row["aggregate_version"],
            "event-position": row["position"],
        },
    )


async def publish(channel: AbstractChannel, messages: list[aio_pika.Message]) -> None:
    for message in messages:
        await channel.default_exchange.publish(message, routing_key=QUEUE)


def outcomes(worker: WorkerProcess, ids: set[str]) -> list[tuple[str, str]]:
    """(event id, outcome) of each delivery of ``ids`` the handler took, in log order."""
    found = (OUTCOME.search(line) for line in worker.log().splitlines())
    return [(m[1], m[2]) for m in found if m is not None and m[1] in ids]


async def wait_for_outcomes(
    worker: WorkerProcess, ids: set[str], count: int
) -> list[tuple[str, str]]:
    """The first ``count`` deliveries of ``ids`` (logged after their ack)."""
    deadline = time.monotonic() + 30
    while len(seen := outcomes(worker, ids)) < count:
        assert time.monotonic() < deadline, f"{len(seen)} of {count} deliveries handled: {seen}"
        await asyncio.sleep(0.1)
    return seen


def statement(env: dict[str, str], account: str) -> str:
    shown = run_cli(env, "accounts", "statement", account, "--json")
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def in_version_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statement entries the log's events make, applied once each, in version order."""
    entries = []
    for row in rows:
        payload = json.loads(row["payload"])
        sign = "-" if row["event_type"] == "accounts.MoneyWithdrawn" else ""
        entries.append(
            {
                "position": row["position"],
                "at": payload["occurred_at"],
                "kind": "withdrawal" if sign else "deposit",
                "amount": f"{sign}{payload['amount']}",
                "balance": payload["balance"],
                "cause": row["causation_id"],
            }
        )
    return entries


def assert_correct(
    env: dict[str, str], account: str, text: str, rows: list[dict[str, Any]]
) -> None:
    entries = json.loads(text)["entries"]
    assert entries == in_version_order(rows)
    shown = json.loads(run_cli(env, "accounts", "show", account, "--json").stdout)
    assert entries[-1]["balance"] == shown["balance"]


async def applied(env: dict[str, str], ids: list[str], seconds: float = 20) -> None:
    sql = "SELECT count(*) AS n FROM handled_events WHERE handler = $1 AND event_id = ANY($2)"
    deadline = time.monotonic() + seconds
    while (await pg_fetch(env["DATABASE_URL"], sql, HANDLER, ids))[0]["n"] < len(ids):
        assert time.monotonic() < deadline, "the handler did not apply them"
        await asyncio.sleep(0.1)


async def dead_letters(env: dict[str, str]) -> int:
    async with await aio_pika.connect(env["AMQP_URL"]) as connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"{QUEUE}.dlq", passive=True)
        return int(queue.declaration_result.message_count or 0)


async def test_duplicates_a_tampered_body_and_a_reversed_burst_leave_the_statement_as_it_was(
    env: dict[str, str], worker: WorkerProcess, bus: BusClient
) -> None:
    alice = f"alice-{uuid.uuid4().hex[:8]}"
    await bus.call("OpenAccount", open_account(alice))
    await moved(bus, alice, ["100.00", "-30.00", "12.50", "-0.50", "7.25", "-40.00"])
    rows = await logged(env, alice, 6)
    await applied(env, [row["event_id"] for row in rows])
    before = statement(env, alice)

    tampered = {**json.loads(rows[2]["payload"]), "amount": "999999.00", "balance": "1.00"}
    copies = [copy_of(row) for row in rows for _ in range(2)]
    copies += [copy_of(rows[2], tampered)]
    copies += [copy_of(row) for row in reversed(rows)]
    async with await aio_pika.connect(env["AMQP_URL"]) as connection:
        await publish(await connection.channel(publisher_confirms=True), copies)

    ids = {row["event_id"] for row in rows}
    seen = await wait_for_outcomes(worker, ids, len(rows) + len(copies))
    assert [outcome for _, outcome in seen[len(rows) :]] == ["duplicate"] * len(copies)
    after = statement(env, alice)
    assert after == before, "byte for byte"
    assert_correct(env, alice, after, rows)
    assert await dead_letters(env) == 0, "a copy naming a real event is no error"


async def test_events_queued_while_the_handler_was_stopped_arrive_later_first_and_apply_in_order(
    env: dict[str, str], worker: WorkerProcess, bus: BusClient, logs: Path
) -> None:
    bob = f"bob-{uuid.uuid4().hex[:8]}"
    await bus.call("OpenAccount", open_account(bob))
    await moved(bus, bob, ["50.00", "-5.00"])
    await applied(env, [row["event_id"] for row in await logged(env, bob, 2)])
    assert worker.stop() == 0

    commands_only = WorkerProcess(env, logs, "copies-commands", ("run", "--role", "commands"))
    commands_only.start()
    try:
        await moved(bus, bob, ["20.00", "-1.00", "3.00", "-4.00", "5.00", "-6.00"])
        rows = await logged(env, bob, 8)
        await all_sent(env, bob)
    finally:
        assert commands_only.stop() == 0
    queued = rows[2:]
    async with await aio_pika.connect(env["AMQP_URL"]) as connection:
        holder = await connection.channel()
        queue = await holder.declare_queue(QUEUE, passive=True)
        held = [await queue.get(no_ack=False, timeout=5) for _ in queued]
        assert [m.message_id for m in held] == [r["event_id"] for r in queued], "in order"
        await publish(
            await connection.channel(publisher_confirms=True),
            [copy_of(row) for row in reversed(queued)],
        )

        await asyncio.to_thread(worker.start)  # the holder's connection stays served
        ids = {row["event_id"] for row in queued}
        first = dict(await wait_for_outcomes(worker, ids, len(queued)))
        assert first[queued[-1]["event_id"]] == "applied", "the latest first, the gap filled"
        assert first[queued[0]["event_id"]] == "duplicate", "the earliest came last"
        await holder.close()  # the originals go back to the queue, and arrive after all

    seen = await wait_for_outcomes(worker, ids, 2 * len(queued))
    assert [outcome for _, outcome in seen[len(queued) :]] == ["duplicate"] * len(queued)
    out_of_order = statement(env, bob)
    assert_correct(env, bob, out_of_order, rows)
    rebuilt = run_cli(env, "projections", "rebuild", HANDLER)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert statement(env, bob) == out_of_order, "as a rebuild from the log, in order, has it"
    assert await dead_letters(env) == 0
