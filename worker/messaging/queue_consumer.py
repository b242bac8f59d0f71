"""What every consumer of a worker queue shares: one task per delivery, in-process retries
under the breaker, a pause before giving a delivery back, and a graceful stop."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from worker.bus.failures import Failure, classify, policy_of
from worker.config import Settings
from worker.messaging.breaker import Breaker
from worker.messaging.failure_routing import FailureRouter
from worker.messaging.publishing import ReplyPublisher
from worker.messaging.retries import Failed
from worker.messaging.retry_seal import RetrySeal

log = logging.getLogger("worker.consumer")

T = TypeVar("T")

MAX_BACKOFF = 5.0
GIVE_BACK_DELAY = 1.0
CANCEL_WAIT = 5.0
#: How long the "is the database down?" question may take before the answer is yes.
REACHABLE_TIMEOUT = 5.0


class QueueConsumer(abc.ABC):
    """Consumes one queue: :meth:`_on_delivery` does the work of one message.

    Transient failures, conflicts and bugs get ``IMMEDIATE_RETRIES`` in-process
    retries (:meth:`_attempts`), then the failure router's delayed rounds and DLQ.
    The breaker turns an outage into one probing message at a time. At shutdown, a
    delivery still waiting goes back to the queue.
    """

    def __init__(
        self,
        settings: Settings,
        queue_name: str,
        database_reachable: Callable[[], Awaitable[bool]],
        replies: ReplyPublisher,
        seal: RetrySeal,
    ) -> None:
        self._settings = settings
        self._queue_name = queue_name
        self._database_reachable = database_reachable
        self._replies = replies
        self._seal = seal
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._breaker = Breaker(
            settings.breaker_threshold, settings.breaker_probe_interval, queue_name
        )
        self._router = FailureRouter(settings.retry_delay_seconds, replies, seal)

    @abc.abstractmethod
    async def _on_delivery(self, message: AbstractIncomingMessage) -> None:
        """Handle one delivery to the end: acked, routed on, or given back."""

    async def start(self, channel: AbstractChannel, queue: AbstractQueue) -> None:
        self._channel, self._queue = channel, queue
        self._tag = await queue.consume(self._on_message)

    async def is_consuming(self) -> bool:
        """Whether the broker still delivers to us (a deleted queue cancels the consumer)."""
        if self._channel is None or self._channel.is_closed or self._tag is None:
            return False
        try:
            underlay = await self._channel.get_underlay_channel()
        except Exception:
            return False
        return self._tag in getattr(underlay, "consumers", {})

    async def stop(self, grace: float) -> None:
        """Stop taking deliveries; give in-flight ones ``grace`` seconds to finish."""
        self._stopping.set()
        if self._queue is not None and self._tag is not None:
            try:
                await self._queue.cancel(self._tag)
            except Exception:
                log.debug("cancelling the consumer failed", exc_info=True)
        if self._in_flight and grace > 0:
            log.info("waiting for %d in-flight messages", len(self._in_flight))
            await asyncio.wait(set(self._in_flight), timeout=grace)
        unfinished = set(self._in_flight)
        for task in unfinished:
            task.cancel()  # their deliveries go back to the queue with the channel
        if unfinished:
            await asyncio.wait(unfinished, timeout=CANCEL_WAIT)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._in_flight.add(task)
        try:
            await self._on_delivery(message)
        except Exception:
            log.warning("delivery %s failed; returning it", message.delivery_tag, exc_info=True)
            await self._give_back(message)
        finally:
            self._in_flight.discard(task)

    async def _give_back(self, message: AbstractIncomingMessage) -> None:
        """Requeue after a pause (on a dead channel the broker requeues it anyway)."""
        if await self._stopped_within(GIVE_BACK_DELAY):
            return  # shutting down: the channel's close returns it
        with contextlib.suppress(Exception):
            await message.nack(requeue=True)

    async def _attempts(
        self, work: Callable[[], Awaitable[T]], log_id: str, attempts: int
    ) -> T | Failed | None:
        """Run ``work`` with immediate retries: its result, a failure, or ``None`` when stopping."""
        counted = 0
        while True:
            probe = await self._breaker.admit(self._stopping)
            if probe is None:
                return None
            attempts += 1
            turn_ended = False
            try:
                result = await work()
                self._breaker.succeeded(probe)
                turn_ended = True
                return result
            except Exception as error:
                failure, outage = await self._judge(error)
                self._breaker.failed(outage, probe)
                turn_ended = True
                if not (probe and outage):
                    counted += 1  # a probe failing for the outage costs the message nothing
                if not failure.retryable or counted > self._settings.immediate_retries:
                    return Failed(failure, error, attempts)
                delay = min(MAX_BACKOFF, 0.05 * 2**counted)
                self._log_retry(log_id, failure, error, attempts, delay, quiet=probe)
                if await self._stopped_within(delay):
                    return None
            finally:
                if not turn_ended:
                    self._breaker.release(probe)  # cancelled mid-probe: free the slot

    async def _judge(self, error: Exception) -> tuple[Failure, bool]:
        """The failure's class, and whether it shows the database is down (an outage).

        Only an outage opens the breaker or spares a probe its attempt: a message
        that keeps timing out on its own while the database answers is retried and
        dead-lettered like any other, never probed forever.
        """
        failure = classify(error)
        if not policy_of(failure).may_be_outage:
            return failure, False
        try:
            reachable = await asyncio.wait_for(self._database_reachable(), REACHABLE_TIMEOUT)
        except TimeoutError:
            reachable = False
        return (failure, False) if reachable else (Failure.TRANSIENT, True)

    def _log_retry(
        self,
        log_id: str,
        failure: Failure,
        error: Exception,
        attempts: int,
        delay: float,
        quiet: bool,
    ) -> None:
        log.log(
            logging.DEBUG if quiet else policy_of(failure).log_level,
            "%s failure handling %s (attempt %d), retrying in %.2fs: %s",
            failure,
            log_id,
            attempts,
            delay,
            error,
            exc_info=error if failure is Failure.BUG else None,
        )

    async def _stopped_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return False
        return True
