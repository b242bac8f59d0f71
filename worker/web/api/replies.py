"""The worker's replies to the front door: one durable queue every front-door process shares
and consumes with acks, so that a reply outlives the process that published the command.

Each reply is recorded (an ``invalid`` outcome, which only the reply tells) before it is
acked, then handed to whoever waits for it in this process.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

log = logging.getLogger("worker.http")
Reply = dict[str, Any]
OnReply = Callable[[Reply], Awaitable[None]]
#: Not one of the worker's own queues (``OwnQueues``): replies may be sent to it.
REPLY_QUEUE = "http.replies"
#: Replies no front door takes within a day (none running) are dropped by the broker.
REPLY_TTL_MS = 24 * 3600 * 1000
FINAL = ("accepted", "rejected", "invalid")
PREFETCH = 256
#: Seconds before a reply that could not be recorded goes back to the queue.
REQUEUE_DELAY = 1.0


class Waiters:
    """The futures of the requests waiting for each message id's reply."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Future[Reply]]] = {}

    def expect(self, message_id: str) -> asyncio.Future[Reply]:
        """A future the reply to ``message_id`` resolves; :meth:`forget` it when done."""
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(message_id, set()).add(future)
        return future

    def forget(self, message_id: str, future: asyncio.Future[Reply]) -> None:
        futures = self._waiting.get(message_id, set())
        futures.discard(future)
        if not futures:
            self._waiting.pop(message_id, None)

    def resolve(self, message_id: str, reply: Reply) -> None:
        for future in list(self._waiting.get(message_id, ())):
            if not future.done():
                future.set_result(reply)


def final_reply(body: bytes) -> Reply | None:
    """The reply's outcome, or None for anything else (a notice, junk)."""
    try:
        reply = json.loads(body)
    except ValueError:
        return None
    return reply if isinstance(reply, dict) and reply.get("status") in FINAL else None


class ReplyListener:
    """Consumes :data:`REPLY_QUEUE`: records each final reply, acks it, resolves waiters."""

    def __init__(self, on_reply: OnReply, waiters: Waiters) -> None:
        self._on_reply = on_reply
        self._waiters = waiters

    async def listen(self, channel: AbstractChannel) -> None:
        await channel.set_qos(prefetch_count=PREFETCH)
        queue = await channel.declare_queue(
            REPLY_QUEUE, durable=True, arguments={"x-message-ttl": REPLY_TTL_MS}
        )
        await queue.consume(self._heard)

    async def _heard(self, message: AbstractIncomingMessage) -> None:
        reply = final_reply(message.body)
        if reply is not None:
            try:
                await self._on_reply(reply)
            except Exception as error:  # the database, most likely: the reply waits for it
                log.warning("could not record the reply to %s: %s", message.correlation_id, error)
                self._waiters.resolve(message.correlation_id or "", reply)
                await asyncio.sleep(REQUEUE_DELAY)
                await message.nack(requeue=True)
                return
        await message.ack()
        if reply is not None:
            self._waiters.resolve(message.correlation_id or "", reply)
