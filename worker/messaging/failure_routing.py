"""After the last immediate retry: the next delayed round, or the DLQ. And the outcome log."""

from __future__ import annotations

import logging
import time

from aio_pika.abc import AbstractChannel

from worker.bus.failures import Failure
from worker.bus.outcomes import Outcome, Status
from worker.messaging.delivery import Delivery
from worker.messaging.publishing import ReplyPublisher
from worker.messaging.retries import Failed, dead_letter, schedule_retry
from worker.messaging.retry_seal import RetrySeal

log = logging.getLogger("worker.consumer")


class FailureRouter:
    """Sends a failed delivery on, then acks it (the copy is confirmed first).

    A retryable failure with delayed rounds left waits out the next one in a
    retry queue; anything else, or a message out of rounds, goes to the DLQ.
    """

    def __init__(self, delays: tuple[float, ...], replies: ReplyPublisher, seal: RetrySeal) -> None:
        self._delays = delays
        self._replies = replies
        self._seal = seal

    async def route(
        self,
        channel: AbstractChannel,
        delivery: Delivery,
        command: str | None,
        failed: Failed,
        started: float,
    ) -> None:
        round_ = delivery.retry_round
        if command is None or not failed.failure.retryable or round_ >= len(self._delays):
            await self._dead_letter(channel, delivery, command, failed, started)
            return
        delay = self._delays[round_]
        await schedule_retry(
            channel,
            delivery,
            self._seal,
            delay=delay,
            attempts=failed.attempts,
            round_=round_ + 1,
        )
        await delivery.message.ack()
        log.warning(
            "command=%s message_id=%s correlation_id=%s %s failure after %d attempts; "
            "delayed retry %d/%d in %gs: %s",
            command,
            delivery.log_id,
            delivery.correlation_id or "-",
            failed.failure,
            failed.attempts,
            round_ + 1,
            len(self._delays),
            delay,
            failed.error,
        )
        await self._replies.notify_retrying(delivery, failed.info())

    async def _dead_letter(
        self,
        channel: AbstractChannel,
        delivery: Delivery,
        command: str | None,
        failed: Failed,
        started: float,
    ) -> None:
        record = failed.record()
        dlq_id = await dead_letter(channel, delivery, record, command, self._seal)
        await delivery.message.ack()
        outcome = Outcome.invalid(delivery.message_id or "", record.code, record.message)
        log_outcome(delivery, outcome, started, f" failure={record.failure_class} dlq_id={dlq_id}")
        if failed.failure is Failure.BUG:
            log.error(
                "message %s dead-lettered after a bug", delivery.log_id, exc_info=failed.error
            )
        await self._replies.send(delivery, outcome)


def log_outcome(delivery: Delivery, outcome: Outcome, started: float, extra: str = "") -> None:
    level = logging.WARNING if outcome.status is Status.INVALID else logging.INFO
    log.log(
        level,
        "command=%s message_id=%s correlation_id=%s outcome=%s%s%s%s duration_ms=%.1f",
        delivery.command_name,
        outcome.message_id or "-",
        delivery.correlation_id or "-",
        outcome.status,
        " (duplicate)" if outcome.duplicate else "",
        f" error={outcome.error.code}" if outcome.error else "",
        extra,
        (time.perf_counter() - started) * 1000,
    )
