"""Sending dead letters back, carefully: one first, then ramping up, stopping on failure.

A bulk retry after an outage or a fix should not flood the worker with messages
that fail again. So the first message goes alone and its outcome is awaited; then
batches of 2, 4, 8... (never more than ``rate`` a second). As soon as a message
fails again (``invalid``, or ``retrying`` for a delayed retry), or no outcome comes
back in time, it stops; what was not sent stays in the DLQ.

Each letter goes back in three steps: the copy is published and confirmed by the
broker; the audit record that it was sent (with the whole letter) is written;
only then is the DLQ copy removed. If the record cannot be written the DLQ copy
stays (a duplicate, which the worker's inbox absorbs) and the retry stops: no
letter ever leaves the DLQ unrecorded. Its outcome is a second record.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from worker.ops.dlq.letters import DeadLetter
from worker.ops.dlq.resend_report import Answer, ResendInterrupted, ResendReport

FAILED_AGAIN = frozenset({"invalid", "retrying"})
MAX_BATCH = 256


class SendFailed(Exception):
    """The broker did not take the copy back (the DLQ copy stays where it is)."""


class Sender(Protocol):
    async def send(self, letter: DeadLetter) -> None:
        """Publish the copy and wait for the broker's confirm; ``SendFailed`` if refused."""

    async def remove(self, letter: DeadLetter) -> None:
        """Remove the DLQ copy."""


class Outcomes(Protocol):
    async def wait(self, message_ids: Sequence[str], seconds: float) -> list[Answer | None]:
        """The next answer for each id (in order), ``None`` for those none came for."""


class Audit(Protocol):
    async def sent(self, letter: DeadLetter) -> None:
        """Record that the letter went back; raise if the record cannot be written."""

    async def outcome(self, letter: DeadLetter, answer: Answer | None) -> None:
        """Record what became of it (``None``: no outcome in time)."""


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


async def resend_letters(
    letters: Sequence[DeadLetter],
    sender: Sender,
    outcomes: Outcomes,
    audit: Audit,
    *,
    rate: float,
    watch_timeout: float,
    report: ResendReport | None = None,
    in_time: Callable[[], bool] = lambda: True,
    advance: Callable[[int], None] = lambda n: None,
) -> ResendReport:
    """Send ``letters`` back batch by batch, adding to ``report``.

    Stops (``report.stopped``) when one fails again or none answers in time; ends,
    not stopped, before a batch when ``in_time()`` says its time is up. Anything
    else going wrong raises ``ResendInterrupted`` with the report so far.
    """
    report = report or ResendReport(len(letters))
    pacer, position = Pacer(rate), 0
    for size in batch_sizes(rate):
        batch = letters[position : position + size]
        if not batch or not in_time():
            break
        sent: list[DeadLetter] = []
        try:
            report.stopped = await _send(batch, sender, audit, pacer, sent, report)
            answers = await outcomes.wait([x.message_id or "" for x in sent], watch_timeout)
            report.results.extend(zip(sent, answers, strict=True))
            sent, settled = [], sent
            await _record_outcomes(settled, answers, audit)
        except Exception as error:
            report.unwatched.extend(sent)
            raise ResendInterrupted(report, error) from error
        position += len(settled)
        advance(len(settled))
        report.stopped = report.stopped or _failure(answers, watch_timeout)
        if report.stopped:
            break
    return report


async def _send(
    batch: Sequence[DeadLetter],
    sender: Sender,
    audit: Audit,
    pacer: Pacer,
    sent: list[DeadLetter],
    report: ResendReport,
) -> str | None:
    """Send, record and remove each letter, appending to ``sent``; why it stopped early."""
    for letter in batch:
        await pacer.wait()
        try:
            await sender.send(letter)
        except SendFailed as error:
            return str(error)
        try:
            await audit.sent(letter)  # before the removal: never gone unrecorded
            await sender.remove(letter)
        except BaseException:
            report.kept.append(letter)
            raise
        sent.append(letter)
    return None


async def _record_outcomes(
    letters: Sequence[DeadLetter], answers: Sequence[Answer | None], audit: Audit
) -> None:
    """Record every outcome it can; then raise the first failure, if any."""
    failure: Exception | None = None
    for letter, answer in zip(letters, answers, strict=True):
        try:
            await audit.outcome(letter, answer)
        except Exception as error:
            failure = failure or error
    if failure is not None:
        raise failure
