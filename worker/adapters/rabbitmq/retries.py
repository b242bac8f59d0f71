"""Where a failed delivery goes next: a delayed retry queue, or the DLQ with its record.

Both publish a copy (body and properties untouched, headers extended) on the
consumer's confirm channel and return once the broker confirmed it; only then
may the caller ack the original, so a crash in between duplicates (which the
inbox absorbs) but never loses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from domain.errors import FailureClass
from worker.adapters.rabbitmq import headers as h
from worker.adapters.rabbitmq.topology import dead_letter_queue, retry_queue
from worker.failures import trimmed_stack
from worker.outcomes import ErrorInfo


@dataclass(frozen=True)
class FailureRecord:
    """Why a message failed, as the DLQ keeps it."""

    failure_class: FailureClass
    code: str
    message: str
    exception_type: str
    attempts: int
    stack: str | None = None


#: The DLQ's error code for a retryable failure whose retries ran out.
EXHAUSTED_CODES = {
    FailureClass.BUG: "handler_failed",
    FailureClass.TRANSIENT: "dependency_unavailable",
    FailureClass.CONFLICT: "conflict_retries_exhausted",
}


@dataclass(frozen=True)
class Failed:
    """A delivery's last failure, after the attempts it was allowed in this round."""

    failure: FailureClass
    error: BaseException
    attempts: int

    def info(self) -> ErrorInfo:
        code = EXHAUSTED_CODES.get(self.failure) or str(getattr(self.error, "code", self.failure))
        if self.failure is FailureClass.INVALID:
            return ErrorInfo(code, str(self.error))
        return ErrorInfo(code, f"{type(self.error).__name__}: {self.error}")

    def record(self) -> FailureRecord:
        info = self.info()
        kind = type(self.error)
        module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
        return FailureRecord(
            self.failure,
            info.code,
            info.message,
            f"{module}{kind.__qualname__}",
            self.attempts,
            trimmed_stack(self.error) if self.failure is FailureClass.BUG else None,
        )


def attempts_of(message: AbstractIncomingMessage, queue: str) -> tuple[int, int]:
    """(handler attempts, delayed rounds) spent before this delivery, from our own headers.

    They count only on a message that came back from one of ``queue``'s retry
    queues (the broker's ``x-death`` says so): a client cannot skip the retries by
    setting them, and a message sent back from the DLQ starts afresh.
    """
    found = message.headers or {}
    if not _came_back_from_retry(found.get("x-death"), f"{queue}.retry."):
        return 0, 0
    return _count(found.get(h.ATTEMPTS)), _count(found.get(h.RETRY_ROUND))


def _came_back_from_retry(deaths: object, prefix: str) -> bool:
    if not isinstance(deaths, list) or not deaths or not isinstance(deaths[0], dict):
        return False
    latest = deaths[0].get("queue")  # the broker keeps the most recent death first
    if isinstance(latest, bytes | bytearray):
        latest = latest.decode("utf-8", "replace")
    return isinstance(latest, str) and latest.startswith(prefix)


def _count(value: object) -> int:
    try:
        return max(0, int(str(value))) if value is not None else 0
    except ValueError:
        return 0


def _with_origin(message: AbstractIncomingMessage) -> dict[str, Any]:
    """The headers, plus where the message was first published (kept across retry rounds)."""
    headers = dict(message.headers or {})
    headers.setdefault(h.ORIGINAL_EXCHANGE, message.exchange or "")
    headers.setdefault(h.ORIGINAL_ROUTING_KEY, message.routing_key or "")
    return headers


def _copy(
    message: AbstractIncomingMessage, headers: dict[str, Any], type_: str | None = None
) -> Message:
    return Message(
        message.body,
        headers=h.encodable_headers(headers),
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        reply_to=message.reply_to,
        type=type_ if type_ is not None else message.type,
        timestamp=message.timestamp,
        delivery_mode=DeliveryMode.PERSISTENT,
    )


async def schedule_retry(
    channel: AbstractChannel,
    message: AbstractIncomingMessage,
    *,
    queue: str,
    command: str,
    delay: float,
    attempts: int,
    round_: int,
) -> None:
    """Park a copy in ``queue``'s retry queue for ``delay``; the broker then routes it back."""
    headers = _with_origin(message)
    headers.update({h.ATTEMPTS: attempts, h.RETRY_ROUND: round_, h.COMMAND: command})
    # Back in its queue the routing key is the queue's name: ``type`` names the command.
    copy = _copy(message, headers, type_=command)
    await channel.default_exchange.publish(
        copy, routing_key=retry_queue(queue, delay), mandatory=True
    )


async def dead_letter(
    channel: AbstractChannel,
    message: AbstractIncomingMessage,
    queue: str,
    record: FailureRecord,
    command: str | None = None,
) -> str:
    """Copy the delivery to ``<queue>.dlq`` with its failure record; return its DLQ id."""
    dlq_id = uuid.uuid4().hex[:12]
    headers = _with_origin(message)
    headers.update(
        {
            h.DLQ_ID: dlq_id,
            h.FAILURE_CLASS: record.failure_class.value,
            h.ERROR_CODE: record.code,
            h.ERROR_MESSAGE: record.message[:2000],
            h.EXCEPTION_TYPE: record.exception_type,
            h.ORIGINAL_QUEUE: queue,
            h.ATTEMPTS: record.attempts,
            h.FAILED_AT: datetime.now(UTC).isoformat(),
        }
    )
    if record.stack:
        headers[h.STACK] = record.stack
    if command:
        headers[h.COMMAND] = command
    headers.pop(h.RETRY_REPLY_TO, None)
    await channel.default_exchange.publish(
        _copy(message, headers), routing_key=dead_letter_queue(queue), mandatory=True
    )
    return dlq_id
