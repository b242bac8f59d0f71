"""What the worker publishes besides retries and dead letters: replies and domain events."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractChannel, AbstractConnection

from worker.bus.outcomes import ErrorInfo, Outcome
from worker.messaging.delivery import Delivery
from worker.messaging.topology import EVENTS_EXCHANGE
from worker.persistence.models import OutboxRow

log = logging.getLogger("worker.replies")


class ReplyPublisher:
    """Answers on ``reply_to``, best effort, on a channel of its own.

    A reply is a courtesy: a vanished or malformed reply queue (which makes the
    broker close the channel) must never cost a commit its ack. A closed channel
    is reopened for the next reply. A message sent back from the DLQ also names
    the operator's queue (header ``retry-reply-to``), which gets the same answer,
    and a ``retrying`` notice when the message fails again and waits for a round.
    """

    def __init__(self, connection: AbstractConnection) -> None:
        self._connection = connection
        self._channel: AbstractChannel | None = None
        self._opening = asyncio.Lock()  # concurrent replies open one channel, not many

    async def send(self, request: Delivery, outcome: Outcome) -> None:
        if request.refused_reply_to:
            log.warning(
                "no reply to %r for %s: it is one of the worker's own queues",
                request.refused_reply_to,
                request.log_id,
            )
        for destination in (request.reply_to, request.operator_queue):
            await self._publish(request, destination, outcome.to_json())

    async def notify_retrying(self, request: Delivery, error: ErrorInfo) -> None:
        """Tell the operator's queue (never the client's) that the message failed again."""
        notice = {
            "status": "retrying",
            "message_id": request.message_id,
            "error": {"code": error.code, "message": error.message},
        }
        await self._publish(request, request.operator_queue, notice)

    async def _publish(
        self, request: Delivery, destination: str | None, answer: dict[str, Any]
    ) -> None:
        if not destination:
            return
        body = json.dumps(answer).encode()
        try:
            channel = await self._open_channel()
            await channel.default_exchange.publish(
                Message(
                    body,
                    content_type="application/json",
                    correlation_id=request.message.correlation_id,
                ),
                routing_key=destination,
                mandatory=False,
            )
        except Exception as error:
            log.warning("no reply to %r for %s: %s", destination, request.log_id, error)

    async def _open_channel(self) -> AbstractChannel:
        async with self._opening:
            if self._channel is None or self._channel.is_closed:
                self._channel = await self._connection.channel(publisher_confirms=False)
            return self._channel


def event_message(row: OutboxRow) -> Message:
    return Message(
        row.payload.encode(),
        content_type="application/json",
        message_id=row.event_id,
        type=row.event_type,
        correlation_id=row.correlation_id,
        timestamp=row.created_at,
        delivery_mode=DeliveryMode.PERSISTENT,
        headers={
            "causation-id": row.causation_id,
            "aggregate-id": row.aggregate_id,
            "aggregate-version": row.aggregate_version,
            "event-position": row.position,
        },
    )


async def publish_event(channel: AbstractChannel, row: OutboxRow) -> None:
    exchange = await channel.get_exchange(EVENTS_EXCHANGE, ensure=False)
    await exchange.publish(event_message(row), routing_key=row.event_type)
