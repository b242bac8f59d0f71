"""Starting on a broker the previous release set up: ``commands`` gains its alternate
exchange in place, with every queued message kept and every binding made again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import aio_pika
import pytest
from aio_pika.abc import AbstractConnection

from tests.integration.consumer_harness import SEAL, ScriptedBus, settings
from tests.integration.previous_release import (
    bindings,
    declare_previous_release,
    expected_bindings,
    publish,
    ready,
)
from tests.services import private_vhost
from tests.wiring import COMMANDS
from worker.messaging import headers as h
from worker.messaging import topology, wire
from worker.messaging.consumer import CommandConsumer
from worker.messaging.publishing import ReplyPublisher

pytestmark = pytest.mark.integration

UNROUTED = topology.UNROUTED_COMMANDS


@pytest.fixture
def old_url() -> Iterator[str]:
    """A vhost of this test's own, so each starts from the previous release's topology."""
    with private_vhost(f"test-upgrade-{uuid.uuid4().hex[:8]}") as url:
        yield url


@pytest.fixture
async def old_broker(old_url: str) -> AsyncIterator[AbstractConnection]:
    """The previous release's topology, with three deposits and a dead letter waiting."""
    wire.install()
    connection = await aio_pika.connect(old_url)
    channel = await connection.channel(publisher_confirms=True)
    await declare_previous_release(channel)
    for number in range(3):
        await publish(channel, "Deposit", f"queued-{number}")
    await channel.default_exchange.publish(
        aio_pika.Message(b"{}", message_id="dead"), routing_key="accounts.commands.dlq"
    )
    yield connection
    await connection.close()


async def test_the_first_start_replaces_the_old_exchange_keeping_messages_and_bindings(
    old_broker: AbstractConnection, old_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await topology.declare_all(await old_broker.channel(), COMMANDS, (0.3,))
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    caplog.clear()
    await topology.declare_all(await old_broker.channel(), COMMANDS, (0.3,))

    channel = await old_broker.channel(publisher_confirms=True)
    assert await ready(channel, "accounts.commands") == 3
    assert await ready(channel, "accounts.commands.dlq") == 1
    assert bindings(old_url, "commands") == expected_bindings()
    assert bindings(old_url, topology.COMMAND_ROUTES) == expected_bindings()
    assert {queue for queue, _ in bindings(old_url, UNROUTED)} == {UNROUTED}
    assert len(warnings) == 1 and "bindings to it that this worker does not make" in warnings[0]
    assert not [r for r in caplog.records if r.levelname == "WARNING"], "once only"
    await publish(channel, "Deposit", "after")
    await publish(channel, "Teleport", "unknown")
    async with asyncio.timeout(10):
        while await ready(channel, UNROUTED) < 1:
            await asyncio.sleep(0.05)
    assert await ready(channel, "accounts.commands") == 4


async def test_an_unknown_command_sent_after_the_upgrade_reaches_the_unrouted_dlq_with_its_reason(
    old_broker: AbstractConnection,
) -> None:
    queues = await topology.declare_all(await old_broker.channel(), COMMANDS, (0.3,))
    consuming = await old_broker.channel(publisher_confirms=True, on_return_raises=True)
    bus = ScriptedBus(lambda *_: None)
    consumer = CommandConsumer(
        bus,  # type: ignore[arg-type]
        settings(),
        UNROUTED,
        _reachable,
        ReplyPublisher(old_broker),
        SEAL,
        COMMANDS,
    )
    await consumer.start(consuming, queues[UNROUTED])
    channel = await old_broker.channel()
    await publish(channel, "Teleport", "unknown")
    dlq = await channel.get_queue(topology.dead_letter_queue(UNROUTED), ensure=False)
    async with asyncio.timeout(10):
        while (dead := await dlq.get(fail=False, no_ack=True)) is None:
            await asyncio.sleep(0.05)
    await consumer.stop(0)

    assert bus.calls == []
    assert dead.message_id == "unknown"
    assert dead.headers[h.ERROR_CODE] == "unknown_command"
    assert "unknown command 'Teleport'" in str(dead.headers[h.ERROR_MESSAGE])
    assert dead.headers[h.ORIGINAL_QUEUE] == UNROUTED
    assert dead.headers[h.ORIGINAL_ROUTING_KEY] == "Teleport"


async def test_workers_starting_together_on_the_old_topology_all_come_up(
    old_broker: AbstractConnection, old_url: str
) -> None:
    connections = [await aio_pika.connect(old_url) for _ in range(5)]
    try:
        channels = [await connection.channel() for connection in connections]
        await asyncio.gather(*(topology.declare_all(c, COMMANDS, (0.3,)) for c in channels))
    finally:
        for connection in connections:
            await connection.close()

    assert bindings(old_url, "commands") == expected_bindings()
    assert await ready(await old_broker.channel(), "accounts.commands") == 3


async def test_a_commands_exchange_with_another_alternate_exchange_is_left_alone_and_explained(
    old_url: str,
) -> None:
    connection = await aio_pika.connect(old_url)
    try:
        await (await connection.channel()).declare_exchange(
            "commands", durable=True, arguments={"alternate-exchange": "elsewhere"}
        )
        with pytest.raises(topology.TopologyMismatch) as mismatch:
            await topology.declare_all(await connection.channel(), COMMANDS)
        await (await connection.channel()).declare_exchange(
            "commands", durable=True, arguments={"alternate-exchange": "elsewhere"}
        )
    finally:
        await connection.close()

    assert "exchange 'commands'" in str(mismatch.value)
    assert "rabbitmqctl delete_exchange commands" in str(mismatch.value)
    assert "delete_queue" not in str(mismatch.value)


async def _reachable() -> bool:
    return True
