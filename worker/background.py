"""A session's background loops (the relays, the handlers' keepers): one stop event, one end."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("worker")

#: Shutdown never waits on a task without a bound.
TASK_STOP_TIMEOUT = 5.0


class BackgroundTasks:
    """Loops that run until :attr:`stop` is set; :meth:`close` also cancels them (each
    checks the event too: on Python 3.11 a cancellation meeting a finishing ``wait_for``
    can be lost). One ending on its own (:attr:`tasks`) means it failed."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, loop: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(loop, name=name))

    @property
    def tasks(self) -> set[asyncio.Task[None]]:
        return set(self._tasks)

    async def close(self) -> None:
        """Set the stop event and cancel them (each loop's work is at least once: what a
        cancelled round did not finish, the next session or start does again), then wait
        for them, within the timeout."""
        self.stop.set()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=TASK_STOP_TIMEOUT)
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("%s failed", task.get_name(), exc_info=task.exception())
