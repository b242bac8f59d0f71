"""Reading, sending back and removing dead letters; and hearing what became of them.

RabbitMQ cannot peek at a queue. The store reads each DLQ with ``basic.get``
without acking, until the queue has nothing ready, and holds those deliveries on
its channel. A message is removed by acking its delivery; closing the channel
makes the broker return every other one to its queue, so a look takes nothing
away. While a store is open, nobody else (another operator's command) sees the
messages it holds; they reappear when it closes (their ``x-delivery-count`` grows).
RabbitMQ's ``consumer_timeout`` (30 min by default) covers these deliveries too:
a store must not stay open that long (``dlq resend`` browses in chunks).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType

from aio_pika import Message
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from aio_pika.exceptions import ChannelClosed, DeliveryError, PublishError
from aiormq.exceptions import ChannelInvalidStateError

from worker.bus.registry import CommandRegistry
from worker.ops.dlq.letters import DeadLetter, from_delivery
from worker.ops.dlq.ramp import SendFailed
from worker.ops.dlq.resend_report import Answer


async def ready_counts(connection: AbstractConnection, names: Sequence[str]) -> dict[str, int]:
    """How many messages are ready in each of ``names`` that exists (a passive declare
    of a missing queue closes its channel, so each gets a channel of its own)."""
    found = {}
    for name in names:
        channel = await connection.channel()
        try:
            queue = await channel.declare_queue(name, passive=True)
            found[name] = queue.declaration_result.message_count or 0
        except ChannelClosed:
            continue
        finally:
            with contextlib.suppress(Exception):
                await channel.close()
    return found


class DeadLetterStore:
    """The DLQs, browsed on one confirm channel that holds what it read until closed."""

    def __init__(self, connection: AbstractConnection, commands: CommandRegistry) -> None:
        self._connection = connection
        self._commands = commands
        self._channel: AbstractChannel | None = None
        self._held: dict[int, AbstractIncomingMessage] = {}
        self._tags = itertools.count(1)

    async def __aenter__(self) -> DeadLetterStore:
        self._channel = await self._connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the channel: the broker returns every message not removed."""
        if self._channel is not None:
            with contextlib.suppress(Exception):
                await self._channel.close()

    @property
    def channel(self) -> AbstractChannel:
        assert self._channel is not None, "use the store as an async context manager"
        return self._channel

    async def browse(
        self,
        counts: Mapping[str, int],
        wanted: Callable[[DeadLetter], bool] = lambda letter: True,
        limit: int | None = None,
    ) -> list[DeadLetter]:
        """The ``wanted`` messages ready in each DLQ, held until removed or closed.

        It reads at most as many as ``counts`` says were ready (a busy DLQ cannot
        keep it reading), and stops at ``limit`` wanted ones. What it read but did not
        want stays unacked on the channel (the broker returns it when the store
        closes), but is not kept here: a long DLQ is never all in memory.
        """
        letters: list[DeadLetter] = []
        for dlq, count in counts.items():
            queue = await self.channel.get_queue(dlq, ensure=False)
            for _ in range(count):
                if limit is not None and len(letters) >= limit:
                    return letters
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                tag = next(self._tags)
                letter = from_delivery(
                    message, dlq, tag, self._commands.public, self._commands.reserved_ids
                )
                if wanted(letter):
                    self._held[tag] = message
                    letters.append(letter)
        return letters

    async def send(self, letter: DeadLetter, message: Message) -> None:
        """Publish ``message`` to the letter's original queue and wait for the
        broker's confirm; the DLQ copy stays until ``remove``."""
        try:
            await self.channel.default_exchange.publish(
                message, routing_key=letter.original_queue, mandatory=True
            )
        except (DeliveryError, PublishError) as error:
            raise SendFailed(
                f"the broker did not take {letter.id} back to {letter.original_queue!r} "
                f"({error}); it stays in the DLQ"
            ) from error

    async def remove(self, letter: DeadLetter) -> None:
        await self._held.pop(letter.tag).ack()


class OutcomeWatcher:
    """The command's own reply queue (exclusive: it goes with the connection), where
    the worker reports the outcome of each message sent back (``retry-reply-to``)."""

    def __init__(self) -> None:
        self._answers: dict[str, list[Answer]] = {}
        self._arrived = asyncio.Event()
        self._lost: Exception | None = None
        self.queue_name = ""

    async def start(self, connection: AbstractConnection) -> str:
        channel = await connection.channel(publisher_confirms=False)
        channel.close_callbacks.add(self._on_close)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.consume(self._on_answer, no_ack=True)
        self.queue_name = queue.name
        return queue.name

    def _on_close(self, channel: object, error: BaseException | None = None) -> None:
        """No answer can come any more: say so instead of waiting for the timeout."""
        closed = ChannelInvalidStateError("the channel of the reply queue closed")
        self._lost = error if isinstance(error, Exception) else closed
        self._arrived.set()

    async def _on_answer(self, message: AbstractIncomingMessage) -> None:
        try:
            answer = json.loads(message.body)
        except ValueError:
            return
        if isinstance(answer, dict) and isinstance(answer.get("status"), str):
            self._answers.setdefault(str(answer.get("message_id") or ""), []).append(answer)
            self._arrived.set()

    def _complete(self, needed: Counter[str]) -> bool:
        return all(len(self._answers.get(key, [])) >= n for key, n in needed.items())

    async def wait(self, message_ids: Sequence[str], seconds: float) -> list[Answer | None]:
        """The next answer for each id, in order (a repeated id takes as many).

        Raises what closed the reply queue's channel, if it closed.
        """
        needed, deadline = Counter(message_ids), time.monotonic() + seconds
        while not self._complete(needed) and (left := deadline - time.monotonic()) > 0:
            if self._lost is not None:
                raise self._lost
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)
        found: list[Answer | None] = []
        for key in message_ids:
            queue = self._answers.get(key)
            found.append(queue.pop(0) if queue else None)
        return found
