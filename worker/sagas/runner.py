"""Runs the sagas' Temporal worker inside the worker process, reconnecting as needed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from datetime import timedelta
from typing import TypeVar

from temporalio.client import Client
from temporalio.worker import Worker

from worker.config import Settings
from worker.sagas.client import TemporalConnection
from worker.sagas.declaration import SagaDeclaration
from worker.sagas.registration import activities_of, build_worker
from workflows.saga.types import CommandDispatcher

log = logging.getLogger("worker.sagas")

T = TypeVar("T")

RETRY_DELAY = 2.0
#: Beyond SHUTDOWN_GRACE, what the SDK gets to report the last completions. A server
#: that hangs (rather than refuses) would hold its shutdown RPC for 30 s or more.
SHUTDOWN_MARGIN = 3.0


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """``work``'s result, or ``None`` (and ``work`` cancelled) if ``stop`` is set first."""
    working = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({working, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not working.done():
        working.cancel()
        return None
    return working.result()


class SagaRunner:
    """Polls the sagas' task queues until ``stop``; then lets running activities finish.

    Shutdown is bounded even when Temporal is gone: connecting is abandoned at
    once, and the SDK's own shutdown gets ``SHUTDOWN_GRACE`` plus a margin.
    """

    def __init__(
        self,
        temporal: TemporalConnection,
        settings: Settings,
        sagas: Sequence[SagaDeclaration],
        dispatcher: CommandDispatcher,
    ) -> None:
        activities_of(sagas, dispatcher)  # two sagas sharing an activity name: refused at once
        self._temporal = temporal
        self._sagas = tuple(sagas)
        self._settings = settings
        self._dispatcher = dispatcher
        self.ready = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                client = await _unless_stopped(self._temporal.client(), stop)
            except Exception as error:
                log.warning(
                    "cannot reach Temporal at %s (%s); retrying",
                    self._settings.temporal_address,
                    error,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_DELAY)
                continue
            if client is None:
                return
            await self._run_until_stopped(self._build(client), stop)

    def _build(self, client: Client) -> list[Worker]:
        """One Temporal worker per task queue, each with the sagas declared on it."""
        by_queue: dict[str, list[SagaDeclaration]] = {}
        for saga in self._sagas:
            by_queue.setdefault(self._settings.task_queue_of(saga), []).append(saga)
        grace = timedelta(seconds=self._settings.shutdown_grace)
        return [
            build_worker(client, queue, sagas, self._dispatcher, graceful_shutdown=grace)
            for queue, sagas in by_queue.items()
        ]

    async def _run_until_stopped(self, workers: list[Worker], stop: asyncio.Event) -> None:
        running = [
            asyncio.create_task(w.run(), name=f"saga-worker-{w.task_queue}") for w in workers
        ]
        stopping = asyncio.create_task(stop.wait())
        log.info(
            "saga worker polling task queue%s %s (namespace %s)",
            "s" if len(workers) > 1 else "",
            ", ".join(w.task_queue for w in workers),
            self._settings.temporal_namespace,
        )
        self.ready.set()
        await asyncio.wait({*running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        self.ready.clear()
        stopping.cancel()
        if stop.is_set():
            await asyncio.gather(
                *(self._shut_down(w, r) for w, r in zip(workers, running, strict=True))
            )
            return
        # One worker stopped on its own: stop the others too, and start them all again.
        stopped = next(task for task in running if task.done())
        others = [(w, r) for w, r in zip(workers, running, strict=True) if r is not stopped]
        await asyncio.gather(*(self._shut_down(w, r) for w, r in others))
        if not stopped.cancelled() and stopped.exception() is not None:
            log.warning("the saga worker stopped (%s); starting it again", stopped.exception())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RETRY_DELAY)

    async def _shut_down(self, worker: Worker, running: asyncio.Task[None]) -> None:
        """Let running activities finish for SHUTDOWN_GRACE, then give up on the SDK.

        What is left is abandoned with the process: Temporal retries an activity
        whose completion it never heard of, and the inbox answers the retry.
        """
        shutdown = asyncio.ensure_future(worker.shutdown())
        limit = self._settings.shutdown_grace + SHUTDOWN_MARGIN
        done, _ = await asyncio.wait({shutdown, running}, timeout=limit)
        if shutdown not in done:
            log.warning("the saga worker did not shut down within %.1fs; leaving it", limit)
            return
        if running.done() and not running.cancelled() and running.exception() is not None:
            log.warning("the saga worker stopped with an error: %s", running.exception())
