"""Sending dead letters back (as they are or edited), a chunk at a time, audited.

RabbitMQ's ``consumer_timeout`` (30 min by default) also covers the deliveries a
browse holds: past it, the broker closes the channel. So a retry never holds
letters for long: it browses for at most ``CHUNK_LETTERS`` of the chosen ones,
sends them back for at most ``CHUNK_SECONDS``, then closes that channel (what it
did not send goes back to the DLQ) and browses afresh for the rest.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from aio_pika.abc import AbstractConnection
from rich.console import Console
from rich.progress import Progress

from worker.bus.message_ids import POLICY_PREFIX
from worker.bus.registry import CommandRegistry
from worker.config import Settings
from worker.messaging import headers as h
from worker.messaging.retry_seal import RetrySeal
from worker.ops.dlq.letters import DeadLetter
from worker.ops.dlq.ramp import resend_letters
from worker.ops.dlq.redelivery import redelivery
from worker.ops.dlq.resend_report import Answer, ResendInterrupted, ResendReport
from worker.ops.dlq.session import audit, commands
from worker.ops.dlq.store import DeadLetterStore, OutcomeWatcher, ready_counts
from worker.ops.dlq.views import audit_after, audit_before
from worker.persistence.secrets import load_retry_seal

CHUNK_LETTERS = 500
CHUNK_SECONDS = 300.0


class StoreSender:
    """Sends letters back with ``retry-reply-to`` set; an edited body (by DLQ id)
    replaces the original. A policy's command the worker dead-lettered under its seal goes
    back sealed again, unedited (its queue takes a policy's message id only under one)."""

    def __init__(
        self,
        store: DeadLetterStore,
        reply_to: str,
        bodies: dict[str, bytes],
        seal: RetrySeal | None = None,
    ) -> None:
        self._store, self._reply_to, self._bodies = store, reply_to, bodies
        self._seal = seal

    async def send(self, letter: DeadLetter) -> None:
        message = redelivery(letter, self._reply_to, self._bodies.get(letter.id))
        seal, message_id = self._seal, message.message_id or ""
        queue = letter.original_queue
        if seal is not None and message_id.startswith(POLICY_PREFIX) and message.headers:
            # Only a letter the worker dead-lettered under its seal, and only unedited: the
            # kept seal must match it afresh, or the copy goes back unsealed (and is refused).
            fresh = seal.headers(queue, message_id, 0, 0, message.body)
            if letter.headers.get(h.POLICY_SEAL) == fresh[h.RETRY_SEAL]:
                message.headers.update(fresh)
        await self._store.send(letter, message)

    async def remove(self, letter: DeadLetter) -> None:
        await self._store.remove(letter)


class ResendAudit:
    """Two records per letter: ``dlq.retry`` (or ``dlq.edit``) when it was sent, with
    the whole letter as it was; then ``<that>.outcome`` with what became of it."""

    def __init__(
        self, settings: Settings, operator: str, reason: str, edited: str | None = None
    ) -> None:
        self._settings, self._operator, self._reason = settings, operator, reason
        self.settings = settings
        self.edited = edited
        self.action = "dlq.retry" if edited is None else "dlq.edit"

    async def sent(self, letter: DeadLetter) -> None:
        after: dict[str, object] = {"status": "sent", "error": None}
        if self.edited is not None:
            after["body"] = self.edited
        before = audit_before(letter, full=True)
        await self._record(self.action, letter, before, after)

    async def outcome(self, letter: DeadLetter, answer: Answer | None) -> None:
        before = {"status": "sent", "error": None}
        after = audit_after(answer, edited=self.edited is not None)
        await self._record(f"{self.action}.outcome", letter, before, after)

    async def _record(self, action: str, letter: DeadLetter, before: object, after: object) -> None:
        settings, operator, reason = self._settings, self._operator, self._reason
        await audit(settings, operator, action, letter, reason, before, after)


@contextmanager
def progress(total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for a bulk action, when stderr is a terminal."""
    if total < 2 or not sys.stderr.isatty():
        yield lambda n: None
        return
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("resending", total=total)
        yield lambda n: bar.advance(task, n)


def _taker(pending: Counter[str]) -> Callable[[DeadLetter], bool]:
    """Wants as many copies of each DLQ id as are still ``pending``."""
    wanted = pending.copy()

    def take(letter: DeadLetter) -> bool:
        if wanted[letter.id] <= 0:
            return False
        wanted[letter.id] -= 1
        return True

    return take


async def send_in_chunks(
    connection: AbstractConnection,
    dlqs: Sequence[str],
    letters: Sequence[DeadLetter],
    audit: ResendAudit,
    *,
    rate: float,
    watch_timeout: float,
    bodies: dict[str, bytes] | None = None,
    chunk: int = CHUNK_LETTERS,
    registry: CommandRegistry | None = None,
) -> ResendReport:
    """Send ``letters`` (as a first look found them) back, chunk by chunk.

    ``registry`` reads the letters (the CLI's own, from the composition root, by default).

    Each chunk browses afresh for those not sent yet; the run ends when all went
    back, one failed again, or none of the rest is in the DLQ any more (then they
    count as left). A broker or database failure raises ``ResendInterrupted``.
    """
    report, watcher = ResendReport(len(letters)), OutcomeWatcher()
    seal = None
    if any((letter.message_id or "").startswith(POLICY_PREFIX) for letter in letters):
        seal = await load_retry_seal(audit.settings)
    everything = Counter(letter.id for letter in letters)
    registry = registry or commands()
    with progress(len(letters)) as advance:
        try:
            reply_to = await watcher.start(connection)
            while not report.stopped and (pending := everything - _sent(report)):
                async with DeadLetterStore(connection, registry) as store:
                    counts = await ready_counts(connection, dlqs)
                    limit = min(chunk, pending.total())
                    found = await store.browse(counts, _taker(pending), limit)
                    if not found:
                        report.gone = pending.total()
                        report.stopped = (
                            f"{report.gone} not in the DLQ any more (sent back or purged "
                            "meanwhile, or held by another dlq command)"
                        )
                        break
                    report.chunks += 1
                    await resend_letters(
                        found,
                        StoreSender(store, reply_to, bodies or {}, seal),
                        watcher,
                        audit,
                        rate=rate,
                        watch_timeout=watch_timeout,
                        report=report,
                        in_time=_for(CHUNK_SECONDS),
                        advance=advance,
                    )
        except ResendInterrupted:
            raise
        except Exception as error:  # browsing: the broker went away between chunks
            raise ResendInterrupted(report, error) from error
    return report


def _for(seconds: float) -> Callable[[], bool]:
    """Whether ``seconds`` from now have not passed yet."""
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() < deadline


def _sent(report: ResendReport) -> Counter[str]:
    return Counter(letter.id for letter in report.sent_letters)
