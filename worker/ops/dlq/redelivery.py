"""The copy of a dead letter that goes back to its queue: same id, fresh retry budget."""

from __future__ import annotations

from typing import Any

from aio_pika import DeliveryMode, Message

from worker.messaging import headers as h
from worker.ops.dlq.letters import DeadLetter


def resend_headers(letter: DeadLetter, reply_to: str) -> dict[str, Any]:
    """The original's headers (``message-id`` included) without the failure record
    and retry bookkeeping, plus where it came from and where to report its outcome."""
    kept = {key: value for key, value in letter.headers.items() if key not in h.STRIPPED_ON_RETRY}
    kept[h.RETRIED_FROM] = letter.id
    kept[h.RETRY_REPLY_TO] = reply_to
    return kept


def redelivery(letter: DeadLetter, reply_to: str, body: bytes | None = None) -> Message:
    """The message to publish to ``letter.original_queue`` through the default exchange.

    Its routing key is then the queue's name, so ``type`` names the command (the
    worker resolves a command from the routing key, then the type). An edited
    ``body`` is JSON the CLI wrote itself, so it goes out as ``application/json``.
    """
    props = letter.properties
    return Message(
        letter.body if body is None else body,
        headers=resend_headers(letter, reply_to),
        content_type=props.content_type if body is None else "application/json",
        content_encoding=props.content_encoding if body is None else None,
        message_id=letter.message_id or props.message_id,
        correlation_id=props.correlation_id,
        reply_to=props.reply_to,
        # An unknown command (from commands.unrouted) is named by its routing key alone.
        type=letter.command or props.type or letter.original_routing_key or None,
        timestamp=props.timestamp,
        priority=props.priority,
        app_id=props.app_id,
        delivery_mode=DeliveryMode.PERSISTENT,
    )
