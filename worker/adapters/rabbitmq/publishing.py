"""What the worker publishes: replies, dead letters and domain events."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage

from worker.adapters.orm import OutboxRow
from worker.adapters.rabbitmq.topology import EVENTS_EXCHANGE, dead_letter_queue
from worker.outcomes import ErrorInfo, Outcome

log = logging.getLogger("worker.replies")


class ReplyPublisher:
    """Answers on ``reply_to``, best effort, on a channel of its own.

    A reply is a courtesy: a vanished or malformed reply queue (which makes the
    broker close the channel) must never cost a commit its ack. A closed channel
    is reopened for the next reply.
    """

    def __init__(self, connection: AbstractConnection) -> None:
        self._connection = connection
        self._channel: AbstractChannel | None = None

    async def send(self, request: AbstractIncomingMessage, outcome: Outcome) -> None:
        if not request.reply_to:
            return
        body = json.dumps(outcome.to_json()).encode()
        try:
            if self._channel is None or self._channel.is_closed:
                self._channel = await self._connection.channel(publisher_confirms=False)
            await self._channel.default_exchange.publish(
                Message(
                    body, content_type="application/json", correlation_id=request.correlation_id
                ),
                routing_key=request.reply_to,
                mandatory=False,
            )
        except Exception as error:
            log.warning("no reply to %r for %s: %s", request.reply_to, outcome.message_id, error)


async def dead_letter(
    channel: AbstractChannel, message: AbstractIncomingMessage, queue: str, error: ErrorInfo
) -> None:
    """Copy the delivery, body untouched, to ``<queue>.dlq`` with the reason in headers.

    Returns once the broker has confirmed the copy; only then may the original be acked.
    """
    headers = dict(message.headers or {})
    headers.update(
        {
            "error-code": error.code,
            "error-message": error.message[:2000],
            "original-queue": queue,
            "original-exchange": message.exchange or "",
            "original-routing-key": message.routing_key or "",
            "failed-at": datetime.now(UTC).isoformat(),
        }
    )
    copy = Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        reply_to=message.reply_to,
        type=message.type,
        timestamp=message.timestamp,
        delivery_mode=DeliveryMode.PERSISTENT,
    )
    await channel.default_exchange.publish(copy, routing_key=dead_letter_queue(queue))


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
        },
    )


async def publish_event(channel: AbstractChannel, row: OutboxRow) -> None:
    exchange = await channel.get_exchange(EVENTS_EXCHANGE, ensure=False)
    await exchange.publish(event_message(row), routing_key=row.event_type)
