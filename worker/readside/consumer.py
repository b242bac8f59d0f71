"""A handler's consumer: its own queue, the commands' retry ladder, breaker and DLQ."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aio_pika.abc import AbstractIncomingMessage
from tortoise import connections

from worker.bus.commands import InvalidCommand
from worker.bus.failures import Failure
from worker.bus.outcomes import Outcome
from worker.config import Settings
from worker.messaging.delivery import read_delivery
from worker.messaging.publishing import ReplyPublisher
from worker.messaging.queue_consumer import QueueConsumer
from worker.messaging.retries import Failed
from worker.messaging.retry_seal import RetrySeal
from worker.messaging.topology import OwnQueues, naming_keys_of_events
from worker.readside.applying import Applied, HandlerRuntime, UnknownEvent
from worker.readside.keeper import record_error

log = logging.getLogger("worker.handlers")


class EventConsumer(QueueConsumer):
    """Applies each delivered event to one handler, then acks.

    The delivery only names the event (its message id is the event id); what is
    applied is the log's row. A delivery naming no event of the log, or one of a
    type the handler does not take, is dead-lettered with that reason.
    """

    def __init__(
        self,
        runtime: HandlerRuntime,
        settings: Settings,
        queue_name: str,
        database_reachable: Callable[[], Awaitable[bool]],
        replies: ReplyPublisher,
        seal: RetrySeal,
        own_queues: OwnQueues,
    ) -> None:
        super().__init__(settings, queue_name, database_reachable, replies, seal)
        self._runtime = runtime
        self._own_queues = own_queues
        self._naming_keys = naming_keys_of_events(queue_name)

    async def _on_delivery(self, message: AbstractIncomingMessage) -> None:
        started = time.perf_counter()
        assert self._channel is not None
        delivery = read_delivery(
            message, self._queue_name, self._seal, self._own_queues, self._naming_keys
        )
        event_type = delivery.command_name
        if delivery.message_id is None:
            problem = delivery.id_problem
            assert problem is not None
            invalid = InvalidCommand("invalid_event_id", f"not an event's id: {problem.message}")
            failed = Failed(Failure.INVALID, invalid, delivery.attempts)
            await self._router.route(self._channel, delivery, event_type, failed, started)
            return
        event_id = delivery.message_id
        result = await self._attempts(lambda: self._apply(event_id), event_id, delivery.attempts)
        if result is None:
            await message.nack(requeue=True)
        elif isinstance(result, Failed):
            if result.failure is not Failure.INVALID:  # junk on its queue is not its failure
                await record_error(connections.get("default"), self._runtime.name, result.error)
            await self._router.route(self._channel, delivery, event_type, result, started)
        else:
            await message.ack()
            # An operator resending a dead letter (``retry-reply-to``) waits for its outcome.
            accepted = Outcome.accepted(event_id)
            await self._replies.send(
                delivery, accepted if result is Applied.APPLIED else accepted.as_duplicate()
            )
            log.debug(
                "handler=%s event=%s event_id=%s outcome=%s duration_ms=%.1f",
                self._runtime.name,
                event_type,
                event_id,
                result,
                (time.perf_counter() - started) * 1000,
            )

    async def _apply(self, event_id: str) -> Applied:
        try:
            return await self._runtime.apply(event_id)
        except UnknownEvent as unknown:
            raise InvalidCommand(unknown.code, str(unknown)) from None
