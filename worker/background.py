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
    """Loops that run until :attr:`stop` is set (each checks it: on Python 3.11 a
    cancellation meeting a finishing ``wait_for`` can be lost). :meth:`first_ended`
    resolves when any of them ends on its own, which only a failure makes it do."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, loop: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(loop, name=name))

    @property
    def tasks(self) -> set[asyncio.Task[None]]:
        return set(self._tasks)

    async def close(self) -> None:
        """Set the stop event, then cancel what has not ended within the timeout."""
        self.stop.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=TASK_STOP_TIMEOUT)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=TASK_STOP_TIMEOUT)
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("%s failed", task.get_name(), exc_info=task.exception())
