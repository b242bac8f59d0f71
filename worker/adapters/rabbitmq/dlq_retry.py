"""Sending dead letters back, carefully: one first, then ramping up, stopping on failure.

A bulk retry after an outage or a fix should not flood the worker with messages
that fail again. So the first message goes alone and its outcome is awaited; then
batches of 2, 4, 8... (never more than ``rate`` a second). As soon as a message
fails again (``invalid``, or ``retrying`` for a delayed retry), or no outcome comes
back in time, it stops; what was not sent stays in the DLQ.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from worker.adapters.rabbitmq.dead_letters import DeadLetter

Answer = dict[str, Any]
FAILED_AGAIN = frozenset({"invalid", "retrying"})
MAX_BATCH = 256


class SendFailed(Exception):
    """The broker did not take the copy back (the DLQ copy stays where it is)."""


class Sender(Protocol):
    async def send_back(self, letter: DeadLetter) -> None:
        """Publish the copy, wait for the broker's confirm, then remove the DLQ copy."""


class Outcomes(Protocol):
    async def wait(self, message_ids: Sequence[str], seconds: float) -> list[Answer | None]:
        """The next answer for each id (in order), ``None`` for those none came for."""


Recorder = Callable[[DeadLetter, Answer | None], Awaitable[None]]


@dataclass
class RetryReport:
    selected: int
    results: list[tuple[DeadLetter, Answer | None]] = field(default_factory=list)
    stopped: str | None = None

    def count(self, *statuses: str) -> int:
        return sum(1 for _, answer in self.results if answer and answer["status"] in statuses)

    @property
    def sent(self) -> int:
        return len(self.results)

    @property
    def left(self) -> int:
        return self.selected - self.sent

    @property
    def unanswered(self) -> int:
        return sum(1 for _, answer in self.results if answer is None)


def batch_sizes(rate: float) -> Iterator[int]:
    """1, 2, 4, 8... capped at ``rate`` (a batch takes about a second at most)."""
    cap = max(1, min(MAX_BATCH, int(rate)))
    size = 1
    while True:
        yield min(size, cap)
        size *= 2


class Pacer:
    """At most ``rate`` sends a second."""

    def __init__(self, rate: float) -> None:
        self._interval = 1 / rate
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        if self._next > now:
            await asyncio.sleep(self._next - now)
        self._next = max(now, self._next) + self._interval


def _failure(answers: Sequence[Answer | None], timeout: float) -> str | None:
    if any(answer is None for answer in answers):
        return f"no outcome within {timeout:g} s: is a worker running?"
    failed = [a for a in answers if a and a["status"] in FAILED_AGAIN]
    if not failed:
        return None
    error = failed[0].get("error") or {}
    return (
        f"{len(failed)} message(s) failed again ({failed[0]['status']}: "
        f"{error.get('code', '?')}: {error.get('message', '')})"
    )


async def retry_letters(
    letters: Sequence[DeadLetter],
    sender: Sender,
    outcomes: Outcomes,
    record: Recorder,
    *,
    rate: float,
    watch_timeout: float,
    advance: Callable[[int], None] = lambda n: None,
) -> RetryReport:
    """Send ``letters`` back batch by batch; each sent one is recorded with its outcome."""
    report = RetryReport(len(letters))
    pacer, position = Pacer(rate), 0
    for size in batch_sizes(rate):
        batch: Sequence[DeadLetter] = letters[position : position + size]
        sent: list[DeadLetter] = []
        if not batch:
            break
        try:
            report.stopped = await _send(batch, sender, pacer, sent)
            answers = await outcomes.wait([x.message_id or "" for x in sent], watch_timeout)
        except BaseException:  # interrupted (Ctrl-C) or the broker went away
            await _record_unanswered(sent, record)
            raise
        position += len(sent)
        for letter, answer in zip(sent, answers, strict=True):
            await record(letter, answer)
            report.results.append((letter, answer))
        advance(len(sent))
        report.stopped = report.stopped or _failure(answers, watch_timeout)
        if report.stopped:
            break
    return report


async def _send(
    batch: Sequence[DeadLetter], sender: Sender, pacer: Pacer, sent: list[DeadLetter]
) -> str | None:
    """Send the batch, appending to ``sent``; why it stopped early, if it did."""
    for letter in batch:
        await pacer.wait()
        try:
            await sender.send_back(letter)
        except SendFailed as error:
            return str(error)
        sent.append(letter)
    return None


async def _record_unanswered(sent: Sequence[DeadLetter], record: Recorder) -> None:
    """What went back is in the audit log even when the command is cut short; the
    error that cut it short is the one reported."""
    with contextlib.suppress(Exception):
        for letter in sent:
            await record(letter, None)
