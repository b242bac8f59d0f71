"""Runs the saga's Temporal worker inside the worker process, reconnecting as needed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from temporalio.worker import Worker

from worker.adapters.temporal.client import TemporalConnection
from worker.config import Settings
from workflows.transfers.shared import CommandDispatcher
from workflows.transfers.worker import build_worker

log = logging.getLogger("worker.sagas")

RETRY_DELAY = 2.0


class SagaRunner:
    """Polls the saga task queue until ``stop``; then lets running activities finish."""

    def __init__(
        self, temporal: TemporalConnection, settings: Settings, dispatcher: CommandDispatcher
    ) -> None:
        self._temporal = temporal
        self._settings = settings
        self._dispatcher = dispatcher
        self.ready = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                client = await self._temporal.client()
            except Exception as error:
                log.warning(
                    "cannot reach Temporal at %s (%s); retrying",
                    self._settings.temporal_address,
                    error,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_DELAY)
                continue
            worker = build_worker(
                client,
                self._settings.temporal_task_queue,
                self._dispatcher,
                graceful_shutdown=timedelta(seconds=self._settings.shutdown_grace),
            )
            await self._run_until_stopped(worker, stop)

    async def _run_until_stopped(self, worker: Worker, stop: asyncio.Event) -> None:
        running = asyncio.create_task(worker.run(), name="saga-worker")
        stopping = asyncio.create_task(stop.wait())
        log.info(
            "saga worker polling task queue %s (namespace %s)",
            self._settings.temporal_task_queue,
            self._settings.temporal_namespace,
        )
        self.ready.set()
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        self.ready.clear()
        stopping.cancel()
        if stop.is_set():
            await worker.shutdown()
        try:
            await running
        except Exception as error:
            log.warning("the saga worker stopped (%s); starting it again", error)
            await asyncio.sleep(RETRY_DELAY)
