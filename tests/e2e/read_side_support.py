"""The read side end to end: the CLI's JSON, messages put straight on a handler's queue,
and waiting until the handlers have applied what the log holds.

Each CLI run spends a second starting Python: :func:`cli_jsons` runs several at once,
and the waits poll the database, not the CLI.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aio_pika
import pika  # type: ignore[import-untyped]
from aio_pika.abc import AbstractIncomingMessage

from tests.e2e.harness import ROOT, BusClient
from tests.services import pg_fetch
from worker.contexts.accounts.statement import ACCOUNT_STATEMENT
from worker.contexts.catalog.availability import PRODUCT_AVAILABILITY
from worker.contexts.customers.loyalty import AWARD_LOYALTY_POINTS
from worker.contexts.customers.orders_projection import CUSTOMER_ORDERS

#: Every handler of the service, by name, with the event types it takes.
HANDLERS = {
    s.name: tuple(s.events)
    for s in (ACCOUNT_STATEMENT, PRODUCT_AVAILABILITY, CUSTOMER_ORDERS, AWARD_LOYALTY_POINTS)
}
_UNAPPLIED = (
    "SELECT count(*) AS n FROM event_log l WHERE l.event_type = ANY($1::text[]) "
    "AND NOT EXISTS (SELECT 1 FROM handled_events h WHERE h.handler = $2 "
    "AND h.event_id = l.event_id)"
)


async def cli(env: dict[str, str], *args: str, timeout: float = 60) -> tuple[int, str, str]:
    """``python -m worker ARGS``, without blocking the event loop: (exit code, out, err)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker",
        *args,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def cli_json(env: dict[str, str], *args: str) -> Any:
    code, out, err = await cli(env, *args, "--json")
    assert code == 0, (args, code, out, err)
    return json.loads(out)


async def cli_jsons(env: dict[str, str], *calls: Sequence[str]) -> list[Any]:
    """The JSON of each call, run concurrently."""
    return list(await asyncio.gather(*(cli_json(env, *call) for call in calls)))


async def unapplied(url: str, handler: str) -> int:
    """Events of the handler's types in the log that it has not applied."""
    [row] = await pg_fetch(url, _UNAPPLIED, list(HANDLERS[handler]), handler)
    return int(row["n"])


async def caught_up(
    url: str, handlers: Sequence[str] = tuple(HANDLERS), timeout: float = 20
) -> None:
    """Every committed event is in the log, and ``handlers`` have applied all of theirs."""
    deadline = time.monotonic() + timeout
    while True:
        [unlogged] = await pg_fetch(url, "SELECT count(*) AS n FROM outbox WHERE position IS NULL")
        behind = {h: n for h in handlers if (n := await unapplied(url, h))}
        if not unlogged["n"] and not behind:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not caught up in {timeout}s: {unlogged['n']} unlogged, {behind}")
        await asyncio.sleep(0.1)


async def wait_for(url: str, sql: str, *args: object, wanted: object, timeout: float = 20) -> None:
    """Until the first column of ``sql``'s first row is ``wanted``."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await pg_fetch(url, sql, *args)
        found = rows[0][0] if rows else None
        if found == wanted:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{sql} {args}: {found!r}, not {wanted!r} within {timeout}s")
        await asyncio.sleep(0.1)


async def event_ids(url: str, aggregate_id: str, types: Sequence[str]) -> list[str]:
    """The logged events of ``types`` of one aggregate, in their order."""
    rows = await pg_fetch(
        url,
        "SELECT event_id FROM event_log WHERE aggregate_id = $1 AND event_type = ANY($2::text[]) "
        "ORDER BY position",
        aggregate_id,
        list(types),
    )
    return [row["event_id"] for row in rows]


async def put_on_queue(
    bus: BusClient,
    queue: str,
    body: bytes,
    *,
    message_id: str | None,
    event_type: str | None = None,
    headers: dict[str, Any] | None = None,
) -> None:
    """Publish straight to ``queue`` (the default exchange), as a hand-made copy would be."""
    message = aio_pika.Message(
        body,
        content_type="application/json",
        message_id=message_id,
        type=event_type,
        headers=headers,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )
    await bus.channel.default_exchange.publish(message, routing_key=queue)


def publish_with_pika(
    amqp_url: str,
    queue: str,
    body: bytes,
    *,
    message_id: str | None,
    event_type: str,
    headers: dict[str, Any],
) -> None:
    """Publish straight to ``queue`` (the default exchange), with no message id if told
    none: aio-pika (aiormq) gives every message an id of its own. Blocking."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        properties = pika.BasicProperties(
            message_id=message_id,
            type=event_type,
            content_type="application/json",
            headers=headers,
            delivery_mode=2,
        )
        connection.channel().basic_publish("", queue, body, properties)
    finally:
        connection.close()


async def next_message(
    queue: aio_pika.abc.AbstractQueue, timeout: float = 10
) -> AbstractIncomingMessage:
    deadline = time.monotonic() + timeout
    while (message := await queue.get(fail=False)) is None:
        assert time.monotonic() < deadline, f"nothing on {queue.name} within {timeout}s"
        await asyncio.sleep(0.05)
    await message.ack()
    return message


async def ready_messages(bus: BusClient, queue: str) -> int:
    declared = await bus.channel.declare_queue(queue, passive=True)
    return int(declared.declaration_result.message_count or 0)


async def wait_for_ready(bus: BusClient, queue: str, wanted: int, timeout: float = 20) -> None:
    """Until ``queue`` holds ``wanted`` messages ready (a DLQ filling up)."""
    deadline = time.monotonic() + timeout
    while (found := await ready_messages(bus, queue)) != wanted:
        assert time.monotonic() < deadline, f"{queue}: {found} messages, not {wanted}"
        await asyncio.sleep(0.1)


class FailureSwitch:
    """The file whose presence makes the handler named by TEST_FAIL_HANDLER fail."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on(self) -> None:
        self.path.touch()

    def off(self) -> None:
        self.path.unlink(missing_ok=True)


def by_name(listed: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``projections list --json`` by handler name."""
    return {handler["name"]: handler for handler in listed}


def movements(statement: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, signed amount, balance after) of each entry of ``accounts statement --json``."""
    return [(e["kind"], e["amount"], e["balance"]) for e in statement["entries"]]


def fields(row: dict[str, Any], *names: str) -> tuple[Any, ...]:
    return tuple(row[name] for name in names)


async def statements(env: dict[str, str], accounts: list[str]) -> list[str]:
    """``accounts statement --json`` of each account, as printed."""
    done = await asyncio.gather(*(cli(env, "accounts", "statement", a, "--json") for a in accounts))
    assert [code for code, _, _ in done] == [0] * len(accounts), done
    return [out for _, out, _ in done]


async def live_generation(url: str) -> int:
    [row] = await pg_fetch(
        url, "SELECT generation FROM handler_state WHERE name = $1", "account_statement"
    )
    return int(row["generation"])


async def statement_rows(url: str) -> list[tuple[Any, ...]]:
    """The whole live statement table: every account's entries."""
    table = f"account_statement_g{await live_generation(url)}"
    rows = await pg_fetch(url, f"SELECT * FROM {table} ORDER BY account_id, version")
    return [tuple(row.values()) for row in rows]


async def loyalty_record(url: str) -> tuple[Any, ...]:
    """Every customer's points, and the commands the policy issued."""
    points = await pg_fetch(url, "SELECT id, loyalty_points FROM customers ORDER BY id")
    issued = await pg_fetch(url, "SELECT message_id FROM command_outbox ORDER BY id")
    return tuple(tuple(row.values()) for row in [*points, *issued])
