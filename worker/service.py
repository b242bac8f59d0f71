"""The running worker: keeps a broker connection, consumers, outbox relay and retention alive."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time

import aio_pika
from aio_pika.abc import AbstractConnection

from worker.background import TASK_STOP_TIMEOUT, BackgroundTasks
from worker.bus.messagebus import MessageBus
from worker.bus.registry import CommandRegistry
from worker.config import Settings, redact
from worker.messaging import topology
from worker.messaging.connection import connect
from worker.messaging.consumer import CommandConsumer
from worker.messaging.outbox_relay import OutboxRelay
from worker.messaging.publishing import ReplyPublisher
from worker.messaging.queue_consumer import QueueConsumer
from worker.messaging.retry_seal import RetrySeal
from worker.persistence.database import is_reachable
from worker.persistence.retention import RetentionSweeper
from worker.persistence.secrets import SealUnavailable, load_retry_seal
from worker.readside.command_relay import CommandRelay
from worker.readside.consumer import EventConsumer
from worker.readside.runner import HandlerRunner

log = logging.getLogger("worker")

RECONNECT_BACKOFF = (0.5, 1.0, 2.0, 3.0, 5.0)
#: A session that lasted this long was healthy: the next reconnect starts fast again.
HEALTHY_SESSION = 10.0
#: What is not flushed at shutdown stays in the outbox for the next start. Short: after
#: the consumers' grace, a stop must end within seconds even while a saga start hangs
#: (Temporal unreachable), and a healthy flush of a batch takes well under one.
FLUSH_TIMEOUT = 3.0
WATCHDOG_INTERVAL = 2.0


class WorkerService:
    """Connects, declares the topology, consumes and relays; reconnects when the broker goes.

    The connection is plain (not aio-pika's robust one, whose recovery can leave
    a queue without consumers): each connection gets fresh channels and fresh
    consumers, and a lost one is replaced from scratch.
    """

    def __init__(
        self,
        settings: Settings,
        bus: MessageBus,
        relay: OutboxRelay,
        commands: CommandRegistry,
        *,
        consume_commands: bool = True,
        retention: RetentionSweeper | None = None,
        handlers: HandlerRunner | None = None,
        command_relay: CommandRelay | None = None,
        handler_names: tuple[str, ...] = (),
    ) -> None:
        self._settings = settings
        self._bus = bus
        self._relay = relay
        self._commands = commands
        self._retention = retention
        self._consume_commands = consume_commands
        self._handlers = handlers
        self._command_relay = command_relay
        #: Every event handler's queue is the worker's own (never a reply's address),
        #: whether this process runs the handlers or not.
        self._handler_names = handler_names
        self.ready = asyncio.Event()
        self._seal: RetrySeal | None = None

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                connection = await connect(
                    self._settings.amqp_url,
                    heartbeat=self._settings.amqp_heartbeat,
                    client_properties={"connection_name": f"bus-worker pid={os.getpid()}"},
                )
            except Exception as error:
                log.warning(
                    "cannot reach RabbitMQ at %s (%s)", redact(self._settings.amqp_url), error
                )
            else:
                try:
                    await self._serve(connection, stop)
                except topology.TopologyMismatch as mismatch:
                    log.error("cannot declare the topology: %s", mismatch)
                except SealUnavailable as unavailable:
                    log.warning("%s; trying again", unavailable)
                except Exception:
                    log.exception("broker session failed")
                finally:
                    self.ready.clear()
                    with contextlib.suppress(Exception):
                        await connection.close()
            if stop.is_set():
                return
            # Back off after sessions that failed fast, so a broken topology or a
            # poison frame cannot spin the worker in a reconnect loop.
            healthy = time.monotonic() - started > HEALTHY_SESSION
            failures = 0 if healthy else failures + 1
            delay = RECONNECT_BACKOFF[min(failures, len(RECONNECT_BACKOFF) - 1)]
            log.info("reconnecting in %.1fs", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    async def _serve(self, connection: AbstractConnection, stop: asyncio.Event) -> None:
        lost = asyncio.Event()
        # closed() only resolves on our own close(); a broker-side close runs the callbacks.
        connection.close_callbacks.add(lambda *_: lost.set())
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        relay_channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        runtimes = self._handlers.runtimes if self._handlers is not None else ()
        queues = await topology.declare_all(
            channel,
            self._commands,
            self._settings.retry_delay_seconds,
            {runtime.name: sorted(runtime.types) for runtime in runtimes},
        )
        # After the declaration: upgrading an earlier release's topology reopens the channel.
        await channel.set_qos(prefetch_count=self._settings.prefetch)
        handler_queues = {topology.handler_queue(r.name): r for r in runtimes}
        command_queues = {
            name: queue
            for name, queue in queues.items()
            if self._consume_commands and name not in handler_queues
        }
        replies = ReplyPublisher(connection)
        seal = await self._retry_seal()
        own = topology.OwnQueues(self._commands.queues, self._handler_names)
        consumers: list[tuple[QueueConsumer, str]] = [
            (
                CommandConsumer(
                    self._bus,
                    self._settings,
                    name,
                    is_reachable,
                    replies,
                    seal,
                    self._commands,
                    own,
                ),
                name,
            )
            for name in command_queues
        ]
        consumers += [
            (EventConsumer(r, self._settings, name, is_reachable, replies, seal, own), name)
            for name, r in handler_queues.items()
        ]
        if self._handlers is not None:
            await self._handlers.prepare()
        for consumer, name in consumers:
            await consumer.start(channel, queues[name])
        tasks = BackgroundTasks()
        tasks.start(self._relay.run(relay_channel, tasks.stop), "outbox-relay")
        if self._command_relay is not None:
            tasks.start(self._command_relay.run(relay_channel, seal, tasks.stop), "command-relay")
        if self._handlers is not None:
            tasks.start(self._handlers.keep(tasks.stop), "handler-keepers")
        log.info(
            "ready: consuming %s (prefetch %d), relaying the outbox",
            ", ".join(name for _, name in consumers) or "nothing (sagas only)",
            self._settings.prefetch,
        )
        self.ready.set()
        retention_stop = asyncio.Event()
        retention = None
        if self._retention is not None:
            retention = asyncio.create_task(
                self._retention.run(retention_stop), name="retention-sweeper"
            )
        closed = asyncio.ensure_future(lost.wait())
        stopping = asyncio.ensure_future(stop.wait())
        watched = [consumer for consumer, _ in consumers]
        watchdog = asyncio.create_task(self._watch(watched, relay_channel, lost))
        await asyncio.wait({closed, stopping, *tasks.tasks}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        watchdog.cancel()
        retention_stop.set()  # it has nothing to finish: it stops after its current statement
        if stop.is_set():
            log.info("stopping: finishing in-flight messages")
            grace = self._settings.shutdown_grace
            await asyncio.gather(*(consumer.stop(grace) for consumer, _ in consumers))
        else:
            log.warning("lost the broker connection")
            # The old deliveries die with the channel; stop their retry loops too.
            await asyncio.gather(*(consumer.stop(0) for consumer, _ in consumers))
        self._relay.wake()
        await tasks.close()
        if retention is not None:
            await self._stop_retention(retention)
        if stop.is_set():
            await self._flush_outbox(relay_channel, seal)
        closed.cancel()

    async def _retry_seal(self) -> RetrySeal:
        """Read once per process. A session cannot consume without it: while the database
        is down at start, the session fails and the worker tries again after its backoff."""
        if self._seal is None:
            self._seal = await load_retry_seal(self._settings)
        return self._seal

    @staticmethod
    async def _stop_retention(task: asyncio.Task[None]) -> None:
        """Its stop event is set: it ends after the statement in progress, or is cancelled."""
        await asyncio.wait({task}, timeout=TASK_STOP_TIMEOUT)
        if not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=TASK_STOP_TIMEOUT)
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("the retention sweeper failed", exc_info=task.exception())

    async def _watch(
        self,
        consumers: list[QueueConsumer],
        relay_channel: aio_pika.abc.AbstractChannel,
        lost: asyncio.Event,
    ) -> None:
        """Count as lost a session whose channel closed or whose consumer was cancelled.

        Either leaves the connection up but the queue without our consumer; a
        fresh session redeclares the topology and consumes again.
        """
        while not lost.is_set():
            await asyncio.sleep(WATCHDOG_INTERVAL)
            consuming = [await c.is_consuming() for c in consumers]
            if relay_channel.is_closed or not all(consuming):
                log.warning("a channel closed or the broker cancelled a consumer; reconnecting")
                lost.set()

    async def _flush_outbox(self, channel: aio_pika.abc.AbstractChannel, seal: RetrySeal) -> None:
        async def flush() -> None:
            while await self._relay.publish_pending(channel):
                pass
            while self._command_relay and await self._command_relay.publish_pending(channel, seal):
                pass

        try:
            await asyncio.wait_for(flush(), FLUSH_TIMEOUT)
        except Exception as error:
            log.warning("outbox not flushed at shutdown (the next start sends it): %s", error)
