"""The command consumer: one task per delivery, ack only after the commit."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable

from aio_pika.abc import AbstractIncomingMessage

from worker.bus.commands import InvalidCommand
from worker.bus.failures import Failure
from worker.bus.messagebus import MessageBus
from worker.bus.registry import CommandRegistry
from worker.config import Settings
from worker.messaging.delivery import Delivery, read_delivery
from worker.messaging.envelope import open_envelope
from worker.messaging.failure_routing import log_outcome
from worker.messaging.publishing import ReplyPublisher
from worker.messaging.queue_consumer import QueueConsumer
from worker.messaging.retries import Failed
from worker.messaging.retry_seal import RetrySeal
from worker.messaging.topology import OwnQueues, naming_keys


class CommandConsumer(QueueConsumer):
    """Consumes one command queue through the bus, following the failure policy.

    Accepted or rejected: acked after the commit, replied if asked. Invalid: copied
    to the DLQ with its reason, then acked. Anything else: the retries of
    :class:`QueueConsumer`, then a delayed round in a retry queue (``RETRY_DELAYS``),
    and after the last round the DLQ.
    """

    def __init__(
        self,
        bus: MessageBus,
        settings: Settings,
        queue_name: str,
        database_reachable: Callable[[], Awaitable[bool]],
        replies: ReplyPublisher,
        seal: RetrySeal,
        commands: CommandRegistry,
        own_queues: OwnQueues | None = None,
    ) -> None:
        super().__init__(settings, queue_name, database_reachable, replies, seal)
        self._commands = commands
        self._naming_keys = naming_keys(queue_name, commands)
        self._own_queues = own_queues or OwnQueues(commands.queues)
        self._bus = bus

    async def _on_delivery(self, message: AbstractIncomingMessage) -> None:
        delivery = read_delivery(
            message,
            self._queue_name,
            self._seal,
            self._own_queues,
            self._naming_keys,
            self._commands.reserved_ids,
        )
        await self._process(delivery)

    async def _process(self, delivery: Delivery) -> None:
        started = time.perf_counter()
        assert self._channel is not None
        try:
            envelope = open_envelope(
                delivery, self._settings.max_body_bytes, self._commands, self._seal
            )
        except InvalidCommand as invalid:
            failed = Failed(Failure.INVALID, invalid, delivery.attempts)
            await self._router.route(self._channel, delivery, None, failed, started)
            return
        context = envelope.context
        result = await self._attempts(
            lambda: self._bus.handle(envelope.command, context),
            context.message_id,
            delivery.attempts,
        )
        if result is None:
            await delivery.message.nack(requeue=True)
        elif isinstance(result, Failed):
            await self._router.route(self._channel, delivery, context.command_name, result, started)
        else:
            if self._settings.test_crash_after_commit == result.message_id:
                os._exit(75)
            await delivery.message.ack()
            log_outcome(delivery, result, started)
            # After the ack, on its own channel: a bad reply_to can cost the reply, nothing more.
            await self._replies.send(delivery, result)
