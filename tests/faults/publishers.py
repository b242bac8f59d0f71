"""Publishers: one that never gives up (aio-pika), one that can send no message id (pika),
and one that sends properties as raw bytes (pika, for hostile input)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable

import aio_pika
import pika  # type: ignore[import-untyped]
from aio_pika.abc import AbstractChannel, AbstractConnection
from aio_pika.exceptions import AMQPError

from tests.faults.traffic import REF_HEADER, Ledger, Planned
from tests.hostile_amqp import WireProperties

RECONNECT_DELAY = 0.5
#: What a publish raises while the broker is away (aio-pika says RuntimeError for
#: a connection closed under it).
RETRYABLE = (AMQPError, OSError, TimeoutError, RuntimeError)


class Publisher:
    """Publishes with confirms and ``mandatory``; on any failure reconnects and sends again.

    That is what a careful client does: the same message id again, so a copy the
    broker had in fact taken is answered from the inbox.
    """

    def __init__(self, amqp_url: str, ledger: Ledger) -> None:
        self._url = amqp_url
        self._ledger = ledger
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Publisher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _open_channel(self) -> AbstractChannel:
        async with self._lock:
            if self._channel is None or self._channel.is_closed:
                try:
                    if self._connection is None or self._connection.is_closed:
                        self._connection = await aio_pika.connect(self._url)
                    self._channel = await self._connection.channel(publisher_confirms=True)
                except RETRYABLE:  # a connection that cannot open a channel is done for
                    connection, self._connection, self._channel = self._connection, None, None
                    if connection is not None:
                        with contextlib.suppress(Exception):
                            await connection.close()
                    raise
            return self._channel

    async def _forget(self, channel: AbstractChannel | None) -> None:
        """Drop a connection that failed (unless another task already replaced it)."""
        async with self._lock:
            if channel is None or channel is not self._channel:
                return
            connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def publish(self, message: Planned, timeout: float = 120) -> None:
        """Publish one copy, retrying until the broker confirms it or ``timeout`` passes."""
        self._ledger.planned.setdefault(message.ref, message)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            channel = None
            try:
                channel = await self._open_channel()
                await self._publish_once(channel, message)
            except RETRYABLE:
                await self._forget(channel)
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(RECONNECT_DELAY)
                continue
            self._ledger.confirmed.add(message.ref)
            self._ledger.publishes += 1
            return

    async def _publish_once(self, channel: AbstractChannel, message: Planned) -> None:
        amqp = aio_pika.Message(
            message.body,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            message_id=message.message_id,
            type=message.type,
            headers={REF_HEADER: message.ref, **message.headers},
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        if message.queue is not None:
            exchange = channel.default_exchange
            routing_key = message.queue
        else:
            exchange = await channel.get_exchange("commands", ensure=False)
            routing_key = message.command
        await asyncio.wait_for(exchange.publish(amqp, routing_key=routing_key), 10)

    async def publish_all(self, messages: Iterable[Planned], concurrency: int = 16) -> None:
        """Publish in order, ``concurrency`` unconfirmed at a time."""
        slots = asyncio.Semaphore(concurrency)

        async def one(message: Planned) -> None:
            async with slots:
                await self.publish(message)

        await asyncio.gather(*(one(m) for m in messages))


def publish_with_pika(
    amqp_url: str, ledger: Ledger, messages: Iterable[Planned], timeout: float = 120
) -> None:
    """Publish in order with plain pika (blocking: run it in a thread); like
    :class:`Publisher`, reconnect and send again what the broker did not confirm.

    aio-pika (aiormq) gives every confirmed publish a message id of its own; pika
    can send a message with none at all.
    """
    pending = ledger.plan(messages)
    deadline = time.monotonic() + timeout
    while pending:
        try:
            _publish_on_one_connection(amqp_url, ledger, pending)
        except (pika.exceptions.AMQPError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(RECONNECT_DELAY)


def _publish_on_one_connection(amqp_url: str, ledger: Ledger, pending: list[Planned]) -> None:
    """Publish ``pending`` from the front, taking off each message once confirmed."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        while pending:
            message = pending[0]
            properties = pika.BasicProperties(
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                message_id=message.message_id,
                type=message.type,
                headers={REF_HEADER: message.ref, **message.headers},
                delivery_mode=2,
            )
            exchange, key = ("", message.queue) if message.queue else ("commands", message.command)
            channel.basic_publish(exchange, key, message.body, properties, mandatory=True)
            ledger.confirmed.add(message.ref)
            ledger.publishes += 1
            pending.pop(0)
    finally:
        with contextlib.suppress(Exception):
            connection.close()


def publish_raw(
    amqp_url: str, ledger: Ledger, sends: Iterable[tuple[Planned, str, str, bytes, bytes]]
) -> dict[str, float]:
    """Publish each (planned, exchange, routing key, raw properties, body) in order on one
    pika connection, each confirmed before the next; when each ref was first sent.

    The properties go out as the bytes given (tests/hostile_amqp.py): whatever the
    broker takes, however little the worker's own client could write it. No
    retry: a broker refusing one of them means the scenario is wrong.
    """
    sent_at: dict[str, float] = {}
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for message, exchange, key, raw, body in sends:
            ledger.plan([message])
            sent_at.setdefault(message.ref, time.time())
            try:
                channel.basic_publish(exchange, key, body, WireProperties(raw), mandatory=True)
            except pika.exceptions.AMQPError as error:
                raise AssertionError(f"the broker refused {message.ref}: {error!r}") from error
            ledger.confirmed.add(message.ref)
            ledger.publishes += 1
    finally:
        with contextlib.suppress(Exception):
            connection.close()
    return sent_at
