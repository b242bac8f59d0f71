"""What the checker reads from the broker: dead letters, and messages still waiting.

The vhost is the scenario's own (or emptied for it), so whatever is in its queues
belongs to the scenario.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections import Counter
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from tests.faults.traffic import REF_HEADER
from tests.wiring import COMMANDS
from worker.messaging.headers import ERROR_CODE, FAILURE_CLASS
from worker.messaging.topology import (
    EVENTS_EXCHANGE,
    UNROUTED_EVENTS,
    consumed_queues,
    dead_letter_queue,
    retry_queue,
)

DEAD_LETTER_QUEUES = [dead_letter_queue(queue) for queue in consumed_queues(COMMANDS)]
#: A durable subscriber of the account events, as a downstream service would have.
EVENT_SUBSCRIBER = "faults.events"


@dataclass(frozen=True)
class DeadLetter:
    ref: str | None
    message_id: str | None
    queue: str
    error_code: str | None
    failure_class: str | None


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return None if value is None else str(value)


def waiting_queues(retry_delays: tuple[float, ...]) -> list[str]:
    """The consumed queues and their retry queues: where a message waits to be handled."""
    queues = consumed_queues(COMMANDS)
    return queues + [retry_queue(q, delay) for q in queues for delay in retry_delays]


async def read_broker(
    amqp_url: str, retry_delays: tuple[float, ...]
) -> tuple[list[DeadLetter], int]:
    """Take every message off the dead-letter queues (they are this scenario's own), and
    count the messages ready in command and retry queues (see also :func:`unacked_in`)."""
    found: list[DeadLetter] = []
    waiting = 0
    connection = await aio_pika.connect(amqp_url)
    try:
        for name in waiting_queues(retry_delays):
            channel = await connection.channel()
            with contextlib.suppress(aio_pika.exceptions.ChannelNotFoundEntity):
                queue = await channel.declare_queue(name, passive=True)
                waiting += queue.declaration_result.message_count or 0
        for name in DEAD_LETTER_QUEUES:
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
            except aio_pika.exceptions.ChannelNotFoundEntity:
                continue  # no worker has declared the topology yet
            while (message := await queue.get(no_ack=True, fail=False)) is not None:
                found.append(dead_letter(name, message))
    finally:
        await connection.close()
    return found, waiting


def unacked_in(vhost: str) -> int:
    """Deliveries the workers of ``vhost`` hold unacknowledged (taken, not yet done).

    Asked of the channels themselves: they answer live, where queue statistics
    (``list_queues messages``) lag by seconds for quorum queues. Runs rabbitmqctl,
    a second of CPU: for a last look, not for polling.
    """
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_channels", "vhost", "messages_unacknowledged"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = (line.split("\t") for line in listed.splitlines())
    return sum(int(row[1]) for row in rows if len(row) == 2 and row[0] == vhost)


def dead_letter(queue: str, message: AbstractIncomingMessage) -> DeadLetter:
    headers = message.headers or {}
    return DeadLetter(
        ref=_text(headers.get(REF_HEADER)),
        message_id=message.message_id,
        queue=queue,
        error_code=_text(headers.get(ERROR_CODE)),
        failure_class=_text(headers.get(FAILURE_CLASS)),
    )


async def empty_vhost(amqp_url: str, retry_delays: tuple[float, ...]) -> None:
    """Purge every queue the worker declares, and delete the event subscriber."""
    queues = [*waiting_queues(retry_delays), *DEAD_LETTER_QUEUES, UNROUTED_EVENTS]
    connection = await aio_pika.connect(amqp_url)
    try:
        for name in [*queues, EVENT_SUBSCRIBER]:
            channel = await connection.channel()
            with contextlib.suppress(aio_pika.exceptions.ChannelNotFoundEntity):
                queue = await channel.declare_queue(name, passive=True)
                await (queue.delete() if name == EVENT_SUBSCRIBER else queue.purge())
    finally:
        await connection.close()


async def subscribe_to_events(amqp_url: str) -> None:
    """Bind :data:`EVENT_SUBSCRIBER` to every account event (the exchange must exist)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(EVENT_SUBSCRIBER, durable=True)
        await queue.bind(EVENTS_EXCHANGE, routing_key="accounts.#")


async def events_received(amqp_url: str) -> Counter[str]:
    """Event ids the subscriber got, with how often each arrived (taking them off)."""
    seen: Counter[str] = Counter()
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(EVENT_SUBSCRIBER, passive=True)
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            seen[message.message_id or ""] += 1
    return seen
