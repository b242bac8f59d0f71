"""The broker as the previous release left it, and what a test asks of the broker about it.

The previous release declared ``commands`` without arguments and bound the command
queues to it directly; the queues themselves are unchanged. Written out here as it
was (not through today's code), so the upgrade is tested from what really exists.
"""

from __future__ import annotations

import json
import subprocess
from urllib.parse import unquote, urlparse

import aio_pika
from aio_pika.abc import AbstractChannel

from tests.wiring import COMMANDS

AT_LEAST_ONCE = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


async def declare_previous_release(channel: AbstractChannel) -> None:
    exchange = await channel.declare_exchange(
        "commands", aio_pika.ExchangeType.DIRECT, durable=True
    )
    for name in COMMANDS.queues:
        dlq = f"{name}.dlq"
        await channel.declare_queue(dlq, durable=True, arguments={"x-queue-type": "quorum"})
        queue = await channel.declare_queue(
            name,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": dlq,
                "x-delivery-limit": 50,
                **AT_LEAST_ONCE,
            },
        )
        for command in COMMANDS.for_queue(name):
            await queue.bind(exchange, routing_key=command)


def bindings(url: str, source: str) -> set[tuple[str, str]]:
    """(queue, routing key) of every binding of the exchange ``source``, from rabbitmqctl."""
    vhost = unquote(urlparse(url).path.removeprefix("/"))
    columns = ["source_name", "destination_name", "routing_key"]
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_bindings", "-p", vhost, "--formatter", "json", *columns],
        check=True,
        capture_output=True,
        text=True,
    )
    rows = json.loads(listed.stdout)
    return {(r["destination_name"], r["routing_key"]) for r in rows if r["source_name"] == source}


def expected_bindings() -> set[tuple[str, str]]:
    return {(COMMANDS.queue_of(name), name) for name in COMMANDS.public}


async def ready(channel: AbstractChannel, queue: str) -> int:
    declared = await channel.declare_queue(queue, passive=True)
    return declared.declaration_result.message_count or 0


async def publish(
    channel: AbstractChannel, routing_key: str, message_id: str, exchange: str = "commands"
) -> None:
    """A deposit as a plain client sends it (``mandatory`` only counts on a confirm channel)."""
    body = {"account_id": "acc-1", "amount": "1.00", "currency": "EUR"}
    target = await channel.get_exchange(exchange, ensure=False)
    await target.publish(
        aio_pika.Message(
            json.dumps(body).encode(), message_id=message_id, content_type="application/json"
        ),
        routing_key=routing_key,
    )
