"""Declaring the topology: retry queues by delay, the unrouted queue, and a clear word on an
older release's queues (its exchange: see ``test_topology_upgrade``)."""

from __future__ import annotations

import aio_pika
import pytest

from tests.wiring import COMMANDS
from worker.messaging import topology

pytestmark = pytest.mark.integration


def test_retry_queues_are_named_by_their_delay() -> None:
    assert topology.retry_queue("accounts.commands", 5) == "accounts.commands.retry.5s"
    assert topology.retry_queue("accounts.commands", 120) == "accounts.commands.retry.120s"
    assert topology.retry_queue("accounts.commands", 0.25) == "accounts.commands.retry.250ms"


async def test_a_queue_left_by_an_older_release_is_reported_with_what_to_do(
    vhost_url: str,
) -> None:
    connection = await aio_pika.connect(vhost_url)
    try:
        old = await connection.channel()
        await old.declare_queue(
            "accounts.commands", durable=True, arguments={"x-queue-type": "quorum"}
        )
        with pytest.raises(topology.TopologyMismatch) as mismatch:
            await topology.declare_all(await connection.channel(), COMMANDS, (5.0,))
        await (await connection.channel()).queue_delete("accounts.commands")
    finally:
        await connection.close()

    assert "inequivalent arg" in str(mismatch.value)
    assert "the queue 'accounts.commands'" in str(mismatch.value)
    assert "rabbitmqctl delete_queue accounts.commands" in str(mismatch.value)
    assert "delete_exchange" not in str(mismatch.value)
    assert "Upgrading" in str(mismatch.value)


async def test_a_fresh_broker_gets_the_unrouted_queue_with_its_dlq_and_retry_queues(
    vhost_url: str,
) -> None:
    connection = await aio_pika.connect(vhost_url)
    try:
        queues = await topology.declare_all(await connection.channel(), COMMANDS, (5.0,))
        channel = await connection.channel()
        for name in ("commands.unrouted.dlq", "commands.unrouted.retry.5s"):
            await channel.declare_queue(name, passive=True)
    finally:
        await connection.close()

    assert list(queues) == [*COMMANDS.queues, "commands.unrouted"], "all consumed, in this order"
