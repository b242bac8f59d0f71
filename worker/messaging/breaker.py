"""The consumer's circuit breaker: when a dependency is down, probe with one message.

Without it, an outage of the database makes every prefetched message fail its
attempts in parallel and burn its retry budget, so a long enough outage would
dead-letter a whole queue. Once ``threshold`` transient failures come in a row
the breaker opens: one message at a time tries (a *probe*), ``probe_interval``
apart, and a probe's failure costs that message nothing. The first success
closes the breaker and everyone goes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

log = logging.getLogger("worker.consumer")

#: How often a waiting message looks whether it may probe or the breaker closed.
POLL = 0.1


class Breaker:
    def __init__(self, threshold: int, probe_interval: float, name: str = "") -> None:
        self._threshold = threshold
        self._probe_interval = probe_interval
        self._name = name
        self._consecutive = 0
        self._probing = False
        self._next_probe = 0.0

    @property
    def is_open(self) -> bool:
        return self._consecutive >= self._threshold

    async def admit(self, stopping: asyncio.Event) -> bool | None:
        """Wait for a turn: ``False`` when closed, ``True`` for a probe, ``None`` when stopping.

        A probe must be ended with :meth:`succeeded` or :meth:`failed`.
        """
        while self.is_open:
            if stopping.is_set():
                return None
            now = time.monotonic()
            if not self._probing and now >= self._next_probe:
                self._probing = True
                return True
            wait = POLL if self._probing else min(POLL, self._next_probe - now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), max(wait, 0.001))
        return None if stopping.is_set() else False

    def release(self, probe: bool | None) -> None:
        """End a turn however it ended (a cancelled probe must not hold the slot)."""
        if probe:
            self._probing = False

    def succeeded(self, probe: bool = False) -> None:
        if self.is_open:
            log.info("breaker %s closed: a message succeeded, consuming at full speed", self._name)
        self._consecutive = 0
        if probe:
            self._probing = False

    def failed(self, outage: bool, probe: bool = False) -> None:
        """Record an attempt that failed; only failures of an outage count toward opening."""
        if outage:
            self._consecutive += 1
            if self._consecutive == self._threshold:
                log.warning(
                    "breaker %s open after %d transient failures in a row: probing with one "
                    "message every %.1fs",
                    self._name,
                    self._threshold,
                    self._probe_interval,
                )
        else:
            # Any other failure (a bug, a conflict) proves the dependency answered.
            self._consecutive = 0
        if probe:
            self._probing = False
            self._next_probe = time.monotonic() + self._probe_interval
