"""The command consumer: one task per delivery, ack only after the commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from domain.errors import InvalidValue
from worker.adapters.rabbitmq.envelope import Envelope, message_id_of, open_envelope
from worker.adapters.rabbitmq.publishing import ReplyPublisher, dead_letter
from worker.commands import InvalidCommand
from worker.config import Settings
from worker.failures import Failure, classify
from worker.messagebus import MessageBus
from worker.outcomes import Outcome, Status

log = logging.getLogger("worker.consumer")

MAX_BACKOFF = 5.0
GIVE_BACK_DELAY = 1.0
CANCEL_WAIT = 5.0


class CommandConsumer:
    """Consumes one command queue through the bus.

    Outcomes: accepted or rejected are replied (if asked) and acked; invalid
    input and handlers that keep failing are copied to the DLQ, then acked.
    Transient failures keep the delivery and retry until the dependency is
    back, or until shutdown, when the delivery is returned to the queue.
    """

    def __init__(
        self,
        bus: MessageBus,
        settings: Settings,
        queue_name: str,
        database_reachable: Callable[[], Awaitable[bool]],
        replies: ReplyPublisher,
    ) -> None:
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
            await self._process(message)
        except Exception:
            log.warning("delivery %s failed; returning it", message_id_of(message), exc_info=True)
            await self._give_back(message)
        finally:
            self._in_flight.discard(task)

    async def _give_back(self, message: AbstractIncomingMessage) -> None:
        """Requeue after a pause (on a dead channel the broker requeues it anyway)."""
        if await self._stopped_within(GIVE_BACK_DELAY):
            return  # shutting down: the channel's close returns it
        with contextlib.suppress(Exception):
            await message.nack(requeue=True)

    async def _process(self, message: AbstractIncomingMessage) -> None:
        started = time.perf_counter()
        assert self._channel is not None
        try:
            envelope = open_envelope(message, self._settings.max_body_bytes)
        except InvalidCommand as invalid:
            outcome = Outcome.invalid(message_id_of(message) or "", invalid.code, invalid.message)
        else:
            result = await self._handle(envelope)
            if result is None:
                await message.nack(requeue=True)
                return
            outcome = result
        if outcome.status is Status.INVALID:
            assert outcome.error is not None
            await dead_letter(self._channel, message, self._queue_name, outcome.error)
        elif self._settings.test_crash_after_commit == outcome.message_id:
            os._exit(75)
        await message.ack()
        self._log(message, outcome, started)
        # After the ack, on its own channel: a bad reply_to can cost the reply, nothing more.
        await self._replies.send(message, outcome)

    async def _handle(self, envelope: Envelope) -> Outcome | None:
        """The outcome, or ``None`` when shutting down before one could be had."""
        message_id = envelope.context.message_id
        failures = attempts = 0
        while True:
            attempts += 1
            try:
                return await self._bus.handle(envelope.command, envelope.context)
            except InvalidValue as error:
                return Outcome.invalid(message_id, error.code, str(error))
            except Exception as error:
                failure = classify(error)
                if failure is Failure.BUG:
                    failures += 1
                    if failures > self._settings.immediate_retries:
                        if await self._database_reachable():
                            log.error("handler failed for %s", message_id, exc_info=error)
                            text = f"{type(error).__name__}: {error}"
                            return Outcome.invalid(message_id, "handler_failed", text)
                        failure = Failure.TRANSIENT
                delay = min(MAX_BACKOFF, 0.05 * 2 ** min(attempts, 7))
                log.warning(
                    "%s failure handling %s, retrying in %.1fs: %s",
                    failure,
                    message_id,
                    delay,
                    error,
                )
                if await self._stopped_within(delay):
                    return None

    async def _stopped_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def _log(self, message: AbstractIncomingMessage, outcome: Outcome, started: float) -> None:
        level = logging.WARNING if outcome.status is Status.INVALID else logging.INFO
        log.log(
            level,
            "command=%s message_id=%s correlation_id=%s outcome=%s%s%s duration_ms=%.1f",
            message.routing_key,
            outcome.message_id or "-",
            message.correlation_id or "-",
            outcome.status,
            " (duplicate)" if outcome.duplicate else "",
            f" error={outcome.error.code}" if outcome.error else "",
            (time.perf_counter() - started) * 1000,
        )
