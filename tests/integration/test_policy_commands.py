"""A policy's commands over the real RabbitMQ (on SQLite and PostgreSQL): relayed sealed
and taken by the real consumer, while a client's copy of one, or a client's own
``AwardLoyaltyPoints``, is dead-lettered without holding up what comes behind it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage

from domain.orders.events import OrderConfirmed
from tests.integration.context_storage import database_fixture
from tests.integration.readside_support import log_everything, logged
from tests.wiring import COMMANDS, CONTEXTS
from worker.bus.commands import Command
from worker.bus.outcomes import Outcome
from worker.bus.unit_of_work import MessageContext
from worker.config import Settings
from worker.contexts.customers.commands import AwardLoyaltyPoints
from worker.contexts.customers.loyalty import AWARD_LOYALTY_POINTS
from worker.messaging import headers as h
from worker.messaging import topology, wire
from worker.messaging.consumer import CommandConsumer
from worker.messaging.publishing import ReplyPublisher
from worker.messaging.retry_seal import RetrySeal
from worker.persistence.outbox import outbox_columns
from worker.persistence.read_side import CommandOutboxRow
from worker.readside.applying import Applied, HandlerRuntime
from worker.readside.command_relay import CommandRelay

pytestmark = pytest.mark.integration

SEAL = RetrySeal(b"the policy tests' seal key")
QUEUE = COMMANDS.queue_of("AwardLoyaltyPoints")

policycmd_database = database_fixture("policycmd", CONTEXTS)


class RecordingBus:
    """Accepts every command, keeping what it was given (at the consumer's seam)."""

    def __init__(self) -> None:
        self.handled: list[tuple[str, Command]] = []

    async def handle(self, command: Command, context: MessageContext) -> Outcome:
        self.handled.append((context.message_id, command))
        return Outcome.accepted(context.message_id)


@pytest.fixture
async def connection(policycmd_database: str, vhost_url: str) -> AsyncIterator[AbstractConnection]:
    """The module's vhost with the worker's topology, the customers' queues empty."""
    wire.install()
    await log_everything()
    connection = await aio_pika.connect(vhost_url)
    channel = await connection.channel()
    queues = await topology.declare_all(channel, COMMANDS, (0.3, 0.6))
    await queues[QUEUE].purge()
    dlq = await channel.get_queue(topology.dead_letter_queue(QUEUE), ensure=False)
    await dlq.purge()
    yield connection
    await connection.close()


async def publishing_channel(connection: AbstractConnection) -> AbstractChannel:
    return await connection.channel(publisher_confirms=True, on_return_raises=True)


async def consuming(connection: AbstractConnection, bus: RecordingBus) -> CommandConsumer:
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    queue = await channel.get_queue(QUEUE, ensure=False)

    async def reachable() -> bool:
        return True

    settings = Settings(retry_delays="0.3,0.6", immediate_retries=1)
    replies = ReplyPublisher(connection)
    consumer = CommandConsumer(
        bus,  # type: ignore[arg-type]
        settings,
        QUEUE,
        reachable,
        replies,
        SEAL,
        COMMANDS,
    )
    await consumer.start(channel, queue)
    return consumer


def command_relay() -> CommandRelay:
    return CommandRelay(COMMANDS, batch_size=100, poll_interval=0.1)


async def award_for_an_order(total: str = "129.99") -> CommandOutboxRow:
    """An order confirmed and logged, the real loyalty policy applied to it: its award."""
    order_id, customer_id = f"O-{uuid.uuid4().hex[:8]}", f"C-{uuid.uuid4().hex[:8]}"
    event = OrderConfirmed(
        aggregate_id=order_id,
        aggregate_version=4,
        customer_id=customer_id,
        currency="EUR",
        total=total,
    )
    context = MessageContext(f"confirm-{order_id}", "ConfirmOrder", "corr-order")
    [confirmed] = await logged([outbox_columns(event, context)])
    assert await HandlerRuntime(AWARD_LOYALTY_POINTS).apply(confirmed.event_id) is Applied.APPLIED
    return await CommandOutboxRow.get(causation_id=confirmed.event_id)


async def taken(channel: AbstractChannel, queue: str, count: int) -> list[AbstractIncomingMessage]:
    """``count`` messages taken from ``queue`` (acked), waiting for them."""
    source = await channel.get_queue(queue, ensure=False)
    found: list[AbstractIncomingMessage] = []
    async with asyncio.timeout(20):
        while len(found) < count:
            message = await source.get(fail=False)
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


async def test_the_relay_publishes_each_unsent_policy_command_sealed_and_marks_it_sent(
    connection: AbstractConnection,
) -> None:
    award = await award_for_an_order("129.99")
    channel = await publishing_channel(connection)

    assert await command_relay().publish_pending(channel, SEAL) == 1
    assert await command_relay().publish_pending(channel, SEAL) == 0

    [message] = await taken(channel, QUEUE, 1)
    assert message.message_id == award.message_id
    assert award.message_id.startswith(f"policy-award_loyalty_points/{award.causation_id}/")
    assert message.type == "AwardLoyaltyPoints"
    assert json.loads(message.body)["points"] == 129
    assert SEAL.authentic(message.headers, QUEUE, award.message_id, message.body)
    assert message.headers["causation-id"] == award.causation_id
    assert message.correlation_id == "corr-order"
    assert (await CommandOutboxRow.get(id=award.id)).sent_at is not None


async def test_a_sealed_policy_command_is_taken_by_the_consumer(
    connection: AbstractConnection,
) -> None:
    bus = RecordingBus()
    consumer = await consuming(connection, bus)
    award = await award_for_an_order("42.00")

    await command_relay().publish_pending(await publishing_channel(connection), SEAL)
    await until(lambda: len(bus.handled) == 1)
    await consumer.stop(0)

    [(message_id, command)] = bus.handled
    assert message_id == award.message_id
    assert isinstance(command, AwardLoyaltyPoints)
    assert command.points == 42


async def test_a_client_cannot_pass_for_a_policy_and_what_comes_behind_is_not_held_up(
    connection: AbstractConnection,
) -> None:
    award = await award_for_an_order("10.00")
    body = award.body.encode()
    more = json.dumps({**json.loads(award.body), "points": 999_999}).encode()
    genuine = SEAL.headers(QUEUE, award.message_id, 0, 0, body)
    other_policy = f"policy-customer_orders/{uuid.uuid4()}/0"
    forgeries: dict[str, tuple[str, bytes, dict[str, Any]]] = {
        "no seal": (award.message_id, body, {}),
        "forged seal": (
            award.message_id,
            body,
            RetrySeal(b"a guess").headers(QUEUE, award.message_id, 0, 0, body),
        ),
        "the seal of another body": (award.message_id, more, genuine),
        "a client's own id": (f"client-{uuid.uuid4().hex[:8]}", body, {}),
        "another policy's id": (
            other_policy,
            body,
            SEAL.headers(QUEUE, other_policy, 0, 0, body),
        ),
    }
    bus = RecordingBus()
    consumer = await consuming(connection, bus)
    channel = await publishing_channel(connection)
    exchange = await channel.get_exchange(topology.COMMANDS_EXCHANGE, ensure=False)
    for case, (message_id, payload, headers) in forgeries.items():
        message = aio_pika.Message(
            payload,
            message_id=message_id,
            content_type="application/json",
            headers={**headers, "test-case": case},
        )
        await exchange.publish(message, routing_key="AwardLoyaltyPoints")

    await command_relay().publish_pending(channel, SEAL)
    dead = await taken(channel, topology.dead_letter_queue(QUEUE), len(forgeries))
    await until(lambda: len(bus.handled) == 1)
    await consumer.stop(0)

    assert {str(m.headers["test-case"]): m.headers[h.ERROR_CODE] for m in dead} == {
        "no seal": "reserved_message_id",
        "forged seal": "reserved_message_id",
        "the seal of another body": "reserved_message_id",
        "a client's own id": "reserved_command",
        "another policy's id": "reserved_command",
    }
    assert [message_id for message_id, _ in bus.handled] == [award.message_id]
