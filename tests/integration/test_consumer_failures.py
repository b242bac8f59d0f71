"""The failure policy at the consumer, against the real broker and a scripted bus.

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

from domain.errors import InvalidValue
from worker.adapters.rabbitmq import headers as h
from worker.adapters.rabbitmq import topology
from worker.adapters.rabbitmq.consumer import CommandConsumer
from worker.adapters.rabbitmq.publishing import ReplyPublisher
from worker.commands import Command
from worker.config import Settings
from worker.outcomes import Outcome
from worker.unit_of_work import MessageContext

pytestmark = pytest.mark.integration

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
    connection = await aio_pika.connect(vhost_url)
    channel = await connection.channel()
    queues = await topology.declare_all(channel, (0.3, 0.6))
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


async def test_a_poison_message_runs_its_retries_then_reaches_the_dlq_with_its_record(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda mid, _: RuntimeError("boom") if mid == "poison" else None)
    consumer = await consuming(connection, bus)
    channel = await connection.channel()
    await publish(channel, "poison")
    for number in range(5):
        await publish(channel, f"good-{number}")

    [dead] = await dead_letters(channel, 1)
    await consumer.stop(0)

    expected_attempts = (1 + 1) * (1 + 2)  # (1 + immediate retries) per round, 2 delayed rounds
    assert bus.calls.count("poison") == expected_attempts
    assert bus.calls.index("good-4") < len(bus.calls) - 1, "the good ones did not wait"
    found = dead.headers
    assert dead.message_id == "poison"
    assert found[h.FAILURE_CLASS] == "bug"
    assert found[h.ERROR_CODE] == "handler_failed"
    assert found[h.EXCEPTION_TYPE] == "RuntimeError"
    assert "RuntimeError: boom" in str(found[h.STACK])
    assert found[h.ORIGINAL_QUEUE] == QUEUE
    assert found[h.ORIGINAL_EXCHANGE] == topology.COMMANDS_EXCHANGE
    assert found[h.ORIGINAL_ROUTING_KEY] == "Deposit"
    assert found[h.ATTEMPTS] == expected_attempts
    assert found[h.COMMAND] == "Deposit"
    assert len(str(found[h.DLQ_ID])) == 12 and found[h.FAILED_AT]


async def test_invalid_input_goes_to_the_dlq_at_once_without_retries(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda mid, _: InvalidValue("amount must be positive"))
    consumer = await consuming(connection, bus)
    channel = await connection.channel()
    await publish(channel, "bad-value")
    await publish(channel, "bad-json", body=b'{"account_id": ')

    dead = {m.message_id: m.headers for m in await dead_letters(channel, 2)}
    await consumer.stop(0)

    assert bus.calls == ["bad-value"]
    assert dead["bad-value"][h.FAILURE_CLASS] == "invalid"
    assert dead["bad-value"][h.ERROR_CODE] == "invalid_value"
    assert dead["bad-value"][h.ATTEMPTS] == 1
    assert h.STACK not in dead["bad-value"]
    assert dead["bad-json"][h.ERROR_CODE] == "malformed_json"
    assert dead["bad-json"][h.EXCEPTION_TYPE] == "worker.commands.base.InvalidCommand"
    assert dead["bad-json"][h.ATTEMPTS] == 0


async def test_an_outage_is_probed_by_one_message_at_a_time_and_dead_letters_nothing(
    connection: AbstractConnection,
) -> None:
    down = True
    bus = ScriptedBus(lambda mid, _: ConnectionRefusedError("db down") if down else None, 0.01)
    consumer = await consuming(connection, bus, lambda: not down)
    channel = await connection.channel()
    for number in range(20):
        await publish(channel, f"waiting-{number}")

    await until(lambda: len(bus.calls) >= 25)  # the first wave, then probes, all failing
    bus.measuring = True
    await until(lambda: len(bus.calls) >= 40)
    bus.measuring, down = False, False
    await until(lambda: len(set(bus.calls)) == 20 and bus.in_flight == 0)
    await asyncio.sleep(0.5)
    await consumer.stop(0)

    assert bus.peak == 1, "once the breaker opened, only one probe ran at a time"
    dlq = await channel.get_queue(topology.dead_letter_queue(QUEUE), ensure=False)
    assert await dlq.get(fail=False) is None


async def test_a_delayed_retry_survives_a_consumer_restart_and_the_operator_hears_of_it(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda mid, attempt: RuntimeError("not yet") if attempt <= 2 else None)
    channel = await connection.channel()
    operator = await channel.declare_queue(exclusive=True)
    first = await consuming(connection, bus)
    await publish(channel, "comes-back", **{h.RETRY_REPLY_TO: operator.name})

    notice = await operator_notice(operator)
    await first.stop(0)
    second = await consuming(connection, bus)
    outcome = await operator_notice(operator)
    await second.stop(0)

    assert notice["status"] == "retrying"
    assert notice["error"]["code"] == "handler_failed"
    assert outcome == {
        "status": "accepted",
        "message_id": "comes-back",
        "error": None,
        "duplicate": False,
    }
    assert bus.calls == ["comes-back"] * 3


async def operator_notice(queue: aio_pika.abc.AbstractQueue) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while (message := await queue.get(fail=False, no_ack=True)) is None:
            await asyncio.sleep(0.05)
    result: dict[str, Any] = json.loads(message.body)
    return result


async def test_a_header_that_is_not_utf8_still_reaches_the_dlq_with_its_reason(
    connection: AbstractConnection, vhost_url: str
) -> None:
    bus = ScriptedBus(lambda mid, _: None)
    consumer = await consuming(connection, bus)
    await asyncio.to_thread(
        publish_with_pika, vhost_url, "latin-1", {"note": "café".encode("latin-1")}
    )

    [dead] = await dead_letters(await connection.channel(), 1)
    await consumer.stop(0)

    assert dead.message_id == "latin-1"
    assert dead.headers[h.ERROR_CODE] == "malformed_json"
    assert bytes(dead.headers["note"]) == "café".encode("latin-1")


def publish_with_pika(url: str, message_id: str, headers: dict[str, Any]) -> None:
    """pika sends ``bytes`` as a long string, which aio-pika reads back as ``bytes``."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        connection.channel().basic_publish(
            topology.COMMANDS_EXCHANGE,
            "Deposit",
            b'{"account_id": ',
            pika.BasicProperties(
                message_id=message_id, content_type="application/json", headers=headers
            ),
        )
    finally:
        connection.close()


async def test_a_client_cannot_skip_the_retries_by_setting_the_workers_headers(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda mid, _: RuntimeError("boom"))
    consumer = await consuming(connection, bus, retry_delays="0.3")
    channel = await connection.channel()
    await publish(channel, "spoofed", **{h.RETRY_ROUND: 5, h.ATTEMPTS: 99})

    [dead] = await dead_letters(channel, 1)
    await consumer.stop(0)

    assert bus.calls.count("spoofed") == 4, "two attempts, a delayed round, two attempts"
    assert dead.headers[h.ATTEMPTS] == 4


async def test_a_message_timing_out_on_its_own_is_not_probed_forever(
    connection: AbstractConnection,
) -> None:
    bus = ScriptedBus(lambda mid, _: TimeoutError("this one always times out"))
    consumer = await consuming(connection, bus, breaker_threshold=2)
    channel = await connection.channel()
    await publish(channel, "slowpoke")

    [dead] = await dead_letters(channel, 1)
    await consumer.stop(0)

    assert dead.headers[h.FAILURE_CLASS] == "transient"
    assert dead.headers[h.ERROR_CODE] == "dependency_unavailable"
    assert bus.calls.count("slowpoke") == 6
