"""After the last immediate retry: the next delayed round, or the DLQ. And the outcome log."""

from __future__ import annotations

import logging
import time

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from worker.adapters.rabbitmq.envelope import command_name_of
from worker.adapters.rabbitmq.publishing import ReplyPublisher
from worker.adapters.rabbitmq.retries import Failed, attempts_of, dead_letter, schedule_retry
from worker.failures import Failure
from worker.outcomes import Outcome, Status

log = logging.getLogger("worker.consumer")


class FailureRouter:
    """Sends a failed delivery on, then acks it (the copy is confirmed first).

    A retryable failure with delayed rounds left waits out the next one in a
    retry queue; anything else, or a message out of rounds, goes to the DLQ.
    """

    def __init__(self, queue_name: str, delays: tuple[float, ...], replies: ReplyPublisher) -> None:
        self._queue_name = queue_name
        self._delays = delays
        self._replies = replies

    async def route(
        self,
        channel: AbstractChannel,
        message: AbstractIncomingMessage,
        message_id: str,
        command: str | None,
        failed: Failed,
        started: float,
    ) -> None:
        round_ = attempts_of(message, self._queue_name)[1]
        if command is None or not failed.failure.retryable or round_ >= len(self._delays):
            await self._dead_letter(channel, message, message_id, command, failed, started)
            return
        delay = self._delays[round_]
        await schedule_retry(
            channel,
            message,
            queue=self._queue_name,
            command=command,
            delay=delay,
            attempts=failed.attempts,
            round_=round_ + 1,
        )
        await message.ack()
        log.warning(
            "command=%s message_id=%s correlation_id=%s %s failure after %d attempts; "
            "delayed retry %d/%d in %gs: %s",
            command,
            message_id,
            message.correlation_id or "-",
            failed.failure,
            failed.attempts,
            round_ + 1,
            len(self._delays),
            delay,
            failed.error,
        )
        await self._replies.notify_retrying(message, message_id, failed.info())

    async def _dead_letter(
        self,
        channel: AbstractChannel,
        message: AbstractIncomingMessage,
        message_id: str,
        command: str | None,
        failed: Failed,
        started: float,
    ) -> None:
        record = failed.record()
        dlq_id = await dead_letter(channel, message, self._queue_name, record, command)
        await message.ack()
        outcome = Outcome.invalid(message_id, record.code, record.message)
        log_outcome(message, outcome, started, f" failure={record.failure_class} dlq_id={dlq_id}")
        if failed.failure is Failure.BUG:
            log.error("message %s dead-lettered after a bug", message_id, exc_info=failed.error)
        await self._replies.send(message, outcome)


def log_outcome(
    message: AbstractIncomingMessage, outcome: Outcome, started: float, extra: str = ""
) -> None:
    level = logging.WARNING if outcome.status is Status.INVALID else logging.INFO
    log.log(
        level,
        "command=%s message_id=%s correlation_id=%s outcome=%s%s%s%s duration_ms=%.1f",
        command_name_of(message),
        outcome.message_id or "-",
        message.correlation_id or "-",
        outcome.status,
        " (duplicate)" if outcome.duplicate else "",
        f" error={outcome.error.code}" if outcome.error else "",
        extra,
        (time.perf_counter() - started) * 1000,
    )
