"""The command consumer: one task per delivery, ack only after the commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from worker.bus.commands import InvalidCommand
from worker.bus.failures import Failure, classify, policy_of
from worker.bus.messagebus import MessageBus
from worker.bus.outcomes import Outcome
from worker.bus.registry import CommandRegistry
from worker.config import Settings
from worker.messaging.breaker import Breaker
from worker.messaging.delivery import Delivery, read_delivery
from worker.messaging.envelope import Envelope, open_envelope
from worker.messaging.failure_routing import FailureRouter, log_outcome
from worker.messaging.publishing import ReplyPublisher
from worker.messaging.retries import Failed
from worker.messaging.retry_seal import RetrySeal
from worker.messaging.topology import OwnQueues, naming_keys

log = logging.getLogger("worker.consumer")

MAX_BACKOFF = 5.0
GIVE_BACK_DELAY = 1.0
CANCEL_WAIT = 5.0
#: How long the "is the database down?" question may take before the answer is yes.
REACHABLE_TIMEOUT = 5.0


class CommandConsumer:
    """Consumes one command queue through the bus, following the failure policy.

    Accepted or rejected: acked after the commit, replied if asked. Invalid: copied
    to the DLQ with its reason, then acked. Transient failures, conflicts and bugs:
    ``IMMEDIATE_RETRIES`` in-process retries, then a delayed round in a retry
    queue (``RETRY_DELAYS``), and after the last round the DLQ. The breaker turns
    an outage into one probing message at a time. At shutdown, a delivery still
    waiting goes back to the queue.
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
    ) -> None:
        self._commands = commands
        self._naming_keys = naming_keys(queue_name, commands)
        self._own_queues = OwnQueues(commands.queues)
        self._replies = replies
        self._bus = bus
        self._settings = settings
        self._queue_name = queue_name
        self._database_reachable = database_reachable
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._breaker = Breaker(
            settings.breaker_threshold, settings.breaker_probe_interval, queue_name
        )
        self._seal = seal
        self._router = FailureRouter(settings.retry_delay_seconds, replies, seal)

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
            delivery = read_delivery(
                message,
                self._queue_name,
                self._seal,
                self._own_queues,
                self._naming_keys,
                self._commands.reserved_ids,
            )
            await self._process(delivery)
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

    async def _process(self, delivery: Delivery) -> None:
        started = time.perf_counter()
        assert self._channel is not None
        try:
            envelope = open_envelope(delivery, self._settings.max_body_bytes, self._commands)
        except InvalidCommand as invalid:
            failed = Failed(Failure.INVALID, invalid, delivery.attempts)
            await self._router.route(self._channel, delivery, None, failed, started)
            return
        result = await self._attempts(envelope, delivery)
        if result is None:
            await delivery.message.nack(requeue=True)
        elif isinstance(result, Failed):
            await self._router.route(
                self._channel, delivery, envelope.context.command_name, result, started
            )
        else:
            if self._settings.test_crash_after_commit == result.message_id:
                os._exit(75)
            await delivery.message.ack()
            log_outcome(delivery, result, started)
            # After the ack, on its own channel: a bad reply_to can cost the reply, nothing more.
            await self._replies.send(delivery, result)

    async def _attempts(self, envelope: Envelope, delivery: Delivery) -> Outcome | Failed | None:
        """Handle with immediate retries: an outcome, a failure, or ``None`` when stopping."""
        attempts = delivery.attempts
        counted = 0
        while True:
            probe = await self._breaker.admit(self._stopping)
            if probe is None:
                return None
            attempts += 1
            turn_ended = False
            try:
                outcome = await self._bus.handle(envelope.command, envelope.context)
                self._breaker.succeeded(probe)
                turn_ended = True
                return outcome
            except Exception as error:
                failure, outage = await self._judge(error)
                self._breaker.failed(outage, probe)
                turn_ended = True
                if not (probe and outage):
                    counted += 1  # a probe failing for the outage costs the message nothing
                if not failure.retryable or counted > self._settings.immediate_retries:
                    return Failed(failure, error, attempts)
                delay = min(MAX_BACKOFF, 0.05 * 2**counted)
                self._log_retry(envelope, failure, error, attempts, delay, quiet=probe)
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
        envelope: Envelope,
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
            envelope.context.message_id,
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
