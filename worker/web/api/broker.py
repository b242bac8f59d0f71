"""The front door's broker connection: commands published with confirms, replies heard on the
queue every front-door process shares, and a new connection whenever the last one was lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from aio_pika.exceptions import AMQPError, ChannelClosed, DeliveryError, PublishError

from worker.config import redact
from worker.messaging.connection import connect
from worker.messaging.topology import COMMANDS_EXCHANGE
from worker.web.api.replies import REPLY_QUEUE, OnReply, Reply, ReplyListener, Waiters

log = logging.getLogger("worker.http")
CONNECT_TIMEOUT = 5.0
PUBLISH_TIMEOUT = 10.0
#: How the broker's management shows this connection.
NAME = "bus-worker HTTP API"


class BrokerUnavailable(Exception):
    """The broker cannot be reached, or did not confirm in time."""

    def __init__(self, reason: str, *, maybe_sent: bool = False) -> None:
        super().__init__(reason)
        #: The command may have reached its queue (the broker went away while confirming).
        self.maybe_sent = maybe_sent


class Unroutable(Exception):
    """The broker had nowhere to put the command (no ``commands`` exchange, no binding)."""


class Refused(Exception):
    """The broker nacked the command (a queue full, say)."""


class Broker:
    """Publishes commands (confirmed, mandatory, persistent) with ``reply_to`` the shared
    reply queue, and hands each final reply to ``on_reply`` and to whoever waits for it."""

    def __init__(self, amqp_url: str, on_reply: OnReply) -> None:
        self._url = amqp_url
        self._lock = asyncio.Lock()
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._waiters = Waiters()
        self._listener = ReplyListener(on_reply, self._waiters)

    async def reachable(self) -> bool:
        try:
            await self._ready()
        except BrokerUnavailable:
            return False
        return True

    def expect(self, message_id: str) -> asyncio.Future[Reply]:
        """A future the reply to ``message_id`` resolves; :meth:`forget` it when done."""
        return self._waiters.expect(message_id)

    def forget(self, message_id: str, future: asyncio.Future[Reply]) -> None:
        self._waiters.forget(message_id, future)

    async def publish(self, name: str, body: bytes, message_id: str) -> None:
        exchange = await self._ready()
        message = aio_pika.Message(
            body,
            content_type="application/json",
            message_id=message_id,
            correlation_id=message_id,
            reply_to=REPLY_QUEUE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                await exchange.publish(message, routing_key=name, mandatory=True)
        except PublishError as error:  # a DeliveryError too: test it first
            raise Unroutable(str(error)) from None
        except DeliveryError as error:
            raise Refused(str(error)) from None
        except ChannelClosed as error:
            raise Unroutable(str(error)) from None
        except (AMQPError, OSError, TimeoutError, RuntimeError) as error:
            # aio-pika raises RuntimeError on a connection the broker has just closed.
            raise BrokerUnavailable(str(error) or type(error).__name__, maybe_sent=True) from None

    def _lost(self) -> bool:
        """No connection, or one the broker closed (aio-pika then only clears ``connected``)."""
        connection = self._connection
        return connection is None or connection.is_closed or not connection.connected.is_set()

    def _open(self) -> bool:
        return self._channel is not None and not self._channel.is_closed and not self._lost()

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None and not self._connection.is_closed:
                await self._connection.close()
            self._connection = None

    async def _ready(self) -> AbstractExchange:
        if self._open() and self._exchange is not None:
            return self._exchange  # the usual case, without waiting for the lock
        async with self._lock:
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    if self._lost():
                        await self._connect()
                    if self._channel is None or self._channel.is_closed:
                        await self._open_channel()
            except (AMQPError, OSError, TimeoutError, RuntimeError) as error:
                self._channel = None
                reason = str(error) or type(error).__name__
                raise BrokerUnavailable(f"{redact(self._url)}: {reason}") from None
            assert self._exchange is not None
            return self._exchange

    async def _connect(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # it is dead already: only free what it holds
                await self._connection.close()
        self._connection = self._channel = None
        connection = await connect(
            self._url, timeout=CONNECT_TIMEOUT, client_properties={"connection_name": NAME}
        )
        try:
            await self._listener.listen(await connection.channel())
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        log.info("HTTP API connected to the broker %s", redact(self._url))

    async def _open_channel(self) -> None:
        # Its own channel: a publish the broker refuses closes it, never the replies'.
        assert self._connection is not None
        self._channel = await self._connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        self._exchange = await self._channel.get_exchange(COMMANDS_EXCHANGE, ensure=False)
