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

from aio_pika.abc import AbstractChannel

from domain.shared.errors import FailureClass
from worker.bus.failures import trimmed_stack
from worker.bus.message_ids import POLICY_PREFIX
from worker.bus.outcomes import ErrorInfo
from worker.messaging import headers as h
from worker.messaging.copies import copy_of, fitted, publishing_limits
from worker.messaging.delivery import MESSAGE_ID_HEADER, Delivery
from worker.messaging.retry_seal import RetrySeal
from worker.messaging.topology import dead_letter_queue, retry_queue


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


def _kept(delivery: Delivery, own: dict[str, Any]) -> set[str]:
    """What trimming never cuts: the worker's headers, and a ``message-id`` header that
    is the message's id (at most 255 bytes): cut, the copy would come back as another
    message, under whatever random id its client library filled in."""
    kept = set(own)
    if delivery.message_id is not None and MESSAGE_ID_HEADER in delivery.headers:
        kept.add(MESSAGE_ID_HEADER)
    return kept


def _with_origin(delivery: Delivery) -> dict[str, Any]:
    """The headers, plus where the message was first published (kept across retry rounds)."""
    headers = dict(delivery.headers)
    headers.setdefault(h.ORIGINAL_EXCHANGE, delivery.message.exchange or "")
    headers.setdefault(h.ORIGINAL_ROUTING_KEY, delivery.message.routing_key or "")
    return headers


async def schedule_retry(
    channel: AbstractChannel,
    delivery: Delivery,
    seal: RetrySeal,
    *,
    delay: float,
    attempts: int,
    round_: int,
) -> None:
    """Park a copy in the queue's retry queue for ``delay``; the broker then routes it back."""
    assert delivery.message_id is not None  # only a command that was handled is retried
    own = seal.headers(delivery.queue, delivery.message_id, attempts, round_, delivery.body)
    own[h.COMMAND] = delivery.command_name
    # Back in its queue the routing key is the queue's name: ``type`` names the command.
    await _publish_copy(
        channel,
        delivery,
        _with_origin(delivery),
        own,
        retry_queue(delivery.queue, delay),
        type_=delivery.command_name,
    )


async def dead_letter(
    channel: AbstractChannel,
    delivery: Delivery,
    record: FailureRecord,
    command: str | None = None,
    seal: RetrySeal | None = None,
) -> str:
    """Copy the delivery to ``<queue>.dlq`` with its failure record; return its DLQ id."""
    dlq_id = uuid.uuid4().hex[:12]
    queue = delivery.queue
    own: dict[str, Any] = {
        h.DLQ_ID: dlq_id,
        h.FAILURE_CLASS: record.failure_class.value,
        h.ERROR_CODE: record.code,
        h.ERROR_MESSAGE: record.message[:2000],
        h.EXCEPTION_TYPE: record.exception_type,
        h.ORIGINAL_QUEUE: queue,
        h.ATTEMPTS: record.attempts,
        h.FAILED_AT: datetime.now(UTC).isoformat(),
    }
    if record.stack:
        own[h.STACK] = record.stack
    if command:
        own[h.COMMAND] = command
    proof = _policy_seal(delivery, seal)
    if proof is not None:
        own[h.POLICY_SEAL] = proof
    if delivery.undecodable is not None:
        own[h.UNDECODABLE_PROPERTIES] = bytearray(delivery.undecodable.raw)
    stale = (*h.SEALED, h.RETRY_REPLY_TO)
    headers = {k: v for k, v in _with_origin(delivery).items() if k not in stale}
    await _publish_copy(channel, delivery, headers, own, dead_letter_queue(queue))
    return dlq_id


def _policy_seal(delivery: Delivery, seal: RetrySeal | None) -> str | None:
    """For a policy's command that came under the worker's seal: the seal to keep on its
    dead letter (none for anyone else's, which a resend must not seal)."""
    message_id = delivery.message_id
    if seal is None or message_id is None or not message_id.startswith(POLICY_PREFIX):
        return None
    if not seal.authentic(delivery.headers, delivery.queue, message_id, delivery.body):
        return None
    return str(seal.headers(delivery.queue, message_id, 0, 0, delivery.body)[h.RETRY_SEAL])


async def _publish_copy(
    channel: AbstractChannel,
    delivery: Delivery,
    headers: dict[str, Any],
    own: dict[str, Any],
    queue: str,
    type_: str | None = None,
) -> None:
    """Publish a faithful copy with the worker's ``own`` headers over ``headers``, fitted
    to the frame, to ``queue``; it returns once the broker confirmed it."""
    frame_max, user = await publishing_limits(channel)
    copy = copy_of(delivery, {**headers, **own}, user, type_=type_)
    copy = fitted(copy, frame_max, _kept(delivery, own))
    await channel.default_exchange.publish(copy, routing_key=queue, mandatory=True)
