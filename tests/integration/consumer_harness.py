"""The consumer against the real broker, in front of a scripted bus.

The bus is a hand-written fake at the consumer's seam (``handle(command,
context)``), so each test decides exactly how handling fails; everything else
(retry queues, TTLs, dead-lettering, confirms) is the real RabbitMQ.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage

from tests.wiring import COMMANDS
from worker.bus.commands import Command
from worker.bus.outcomes import Outcome
from worker.bus.unit_of_work import MessageContext
from worker.config import Settings
from worker.messaging import topology, wire
from worker.messaging.consumer import CommandConsumer
from worker.messaging.publishing import ReplyPublisher
from worker.messaging.retry_seal import RetrySeal

SEAL = RetrySeal(b"the tests' retry seal key")

QUEUE = "accounts.commands"
DELAYS = "0.3,0.6"
Script = Callable[[str, int], BaseException | None]


class ScriptedBus:
    """Fails or accepts each call as ``script(message_id, attempt)`` says."""

    def __init__(self, script: Script, pause: float = 0.0) -> None:
        self.script = script
        self.pause = pause
        self.calls: list[str] = []
        self.in_flight = 0
        self.measuring = False
        self.peak = 0

    async def handle(self, command: Command, context: MessageContext) -> Outcome:
        self.calls.append(context.message_id)
        self.in_flight += 1
        if self.measuring:
            self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.pause)
            failure = self.script(context.message_id, self.calls.count(context.message_id))
        finally:
            self.in_flight -= 1
        if failure is not None:
            raise failure
        return Outcome.accepted(context.message_id)


@pytest.fixture
async def connection(vhost_url: str) -> AsyncIterator[AbstractConnection]:
    wire.install()
    connection = await aio_pika.connect(vhost_url)
    channel = await connection.channel()
    queues = await topology.declare_all(channel, COMMANDS, (0.3, 0.6))
    await queues[QUEUE].purge()
    dlq = await channel.get_queue(topology.dead_letter_queue(QUEUE), ensure=False)
    await dlq.purge()
    yield connection
    await connection.close()


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "retry_delays": DELAYS,
        "immediate_retries": 1,
        "breaker_threshold": 3,
        "breaker_probe_interval": 0.1,
    }
    return Settings(**{**values, **overrides})


async def consuming(
    connection: AbstractConnection,
    bus: ScriptedBus,
    database_up: Callable[[], bool] = lambda: True,
    **overrides: Any,
) -> CommandConsumer:
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    await channel.set_qos(prefetch_count=64)
    queue = await channel.get_queue(QUEUE, ensure=False)

    async def reachable() -> bool:
        return database_up()

    consumer = CommandConsumer(
        bus,  # type: ignore[arg-type]
        settings(**overrides),
        QUEUE,
        reachable,
        ReplyPublisher(connection),
        SEAL,
        COMMANDS,
    )
    await consumer.start(channel, queue)
    return consumer


async def publish(
    channel: AbstractChannel, message_id: str, body: bytes | None = None, **headers: Any
) -> None:
    payload = body or json.dumps({"account_id": "acc-1", "amount": "1.00", "currency": "EUR"})
    exchange = await channel.get_exchange(topology.COMMANDS_EXCHANGE, ensure=False)
    message = aio_pika.Message(
        payload if isinstance(payload, bytes) else payload.encode(),
        message_id=message_id,
        content_type="application/json",
        headers=headers,
    )
    await exchange.publish(message, routing_key="Deposit")


async def dead_letters(channel: AbstractChannel, count: int) -> list[AbstractIncomingMessage]:
    queue = await channel.get_queue(topology.dead_letter_queue(QUEUE), ensure=False)
    found: list[AbstractIncomingMessage] = []
    async with asyncio.timeout(20):
        while len(found) < count:
            message = await queue.get(fail=False)
            if message is None:
                await asyncio.sleep(0.05)
            else:
                await message.ack()
                found.append(message)
    return found


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(20):
        while not condition():
            await asyncio.sleep(0.02)
