"""A command no queue is bound for is never dropped: it reaches ``commands.unrouted``,
where the worker dead-letters it with its reason and goes on with what follows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage

from tests.integration.consumer_harness import SEAL, ScriptedBus, settings
from tests.integration.previous_release import publish
from tests.wiring import COMMANDS
from worker.messaging import headers as h
from worker.messaging import topology, wire
from worker.messaging.consumer import CommandConsumer
from worker.messaging.publishing import ReplyPublisher

pytestmark = pytest.mark.integration

UNROUTED = topology.UNROUTED_COMMANDS
UNROUTED_DLQ = topology.dead_letter_queue(UNROUTED)


@pytest.fixture
async def connection(vhost_url: str) -> AsyncIterator[AbstractConnection]:
    wire.install()
    connection = await aio_pika.connect(vhost_url)
    channel = await connection.channel()
    queues = await topology.declare_all(channel, COMMANDS, (0.3, 0.6))
    for name in ("accounts.commands", UNROUTED, UNROUTED_DLQ):
        await (queues.get(name) or await channel.get_queue(name, ensure=False)).purge()
    yield connection
    await connection.close()


async def consume(connection: AbstractConnection, queue: str, bus: ScriptedBus) -> CommandConsumer:
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    consumer = CommandConsumer(
        bus,  # type: ignore[arg-type]
        settings(),
        queue,
        _reachable,
        ReplyPublisher(connection),
        SEAL,
        COMMANDS,
    )
    await consumer.start(channel, await channel.get_queue(queue, ensure=False))
    return consumer


async def dead_letters(connection: AbstractConnection, count: int) -> list[AbstractIncomingMessage]:
    dlq = await (await connection.channel()).get_queue(UNROUTED_DLQ, ensure=False)
    found: list[AbstractIncomingMessage] = []
    async with asyncio.timeout(15):
        while len(found) < count:
            message = await dlq.get(fail=False, no_ack=True)
            if message is None:
                await asyncio.sleep(0.05)
            else:
                found.append(message)
    return found


async def test_a_plain_publish_with_an_unknown_key_is_dead_lettered_and_what_follows_is_handled(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda *_: None)
    consumers = [
        await consume(connection, "accounts.commands", bus),
        await consume(connection, UNROUTED, bus),
    ]
    plain = await connection.channel(publisher_confirms=False)
    await publish(plain, "Teleport", "unknown-1")
    await publish(plain, "deposit", "unknown-2")
    await publish(plain, "Deposit", "known")

    dead = {m.message_id: m.headers for m in await dead_letters(connection, 2)}
    async with asyncio.timeout(15):
        while "known" not in bus.calls:
            await asyncio.sleep(0.05)
    healthy = [await consumer.is_consuming() for consumer in consumers]
    for consumer in consumers:
        await consumer.stop(0)

    assert healthy == [True, True]
    assert bus.calls == ["known"]
    for message_id, key in (("unknown-1", "Teleport"), ("unknown-2", "deposit")):
        assert dead[message_id][h.ERROR_CODE] == "unknown_command"
        assert dead[message_id][h.FAILURE_CLASS] == "invalid"
        assert f"unknown command {key!r}" in str(dead[message_id][h.ERROR_MESSAGE])
        assert dead[message_id][h.ORIGINAL_EXCHANGE] == topology.COMMANDS_EXCHANGE
        assert dead[message_id][h.ORIGINAL_ROUTING_KEY] == key


async def test_an_unknown_key_is_the_name_even_when_the_type_names_a_known_command(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda *_: None)
    consumer = await consume(connection, UNROUTED, bus)
    channel = await connection.channel()
    exchange = await channel.get_exchange(topology.COMMANDS_EXCHANGE, ensure=False)
    body = json.dumps({"account_id": "acc-1", "amount": "1.00", "currency": "EUR"}).encode()
    message = aio_pika.Message(body, message_id="typed", type="Deposit")
    await exchange.publish(message, routing_key="Teleport")

    [dead] = await dead_letters(connection, 1)
    await consumer.stop(0)

    assert bus.calls == []
    assert dead.headers[h.ERROR_CODE] == "unknown_command"


async def test_a_known_command_that_reaches_the_unrouted_queue_is_handled_and_retried_there(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda _, attempt: TimeoutError("slow") if attempt <= 2 else None)
    consumer = await consume(connection, UNROUTED, bus)
    await publish(await connection.channel(), "Deposit", "stray", exchange=UNROUTED)

    async with asyncio.timeout(15):
        while bus.calls.count("stray") < 3:
            await asyncio.sleep(0.05)
    await consumer.stop(0)

    assert bus.calls == ["stray"] * 3, "two immediate attempts, then one back from the retry queue"


def test_the_unrouted_queue_and_its_dlq_and_retry_queues_are_never_a_reply_address() -> None:
    own = topology.OwnQueues(COMMANDS.queues)
    assert own(UNROUTED) and own(UNROUTED_DLQ) and own(f"{UNROUTED}.retry.5s")
    assert not own("commands.unrouted-replies")


async def _reachable() -> bool:
    return True
