"""Sending dead letters back (as they are or edited) and saying how it went."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress

from worker.adapters.rabbitmq.dead_letters import DeadLetter
from worker.adapters.rabbitmq.dlq_retry import (
    FAILED_AGAIN,
    Answer,
    Recorder,
    RetryReport,
    retry_letters,
)
from worker.adapters.rabbitmq.dlq_store import DeadLetterStore, OutcomeWatcher
from worker.adapters.rabbitmq.redelivery import redelivery
from worker.config import Settings
from worker.entrypoints.common import fail, print_json
from worker.entrypoints.dlq_session import Session, audit
from worker.entrypoints.dlq_views import audit_after, audit_before


class StoreSender:
    """Sends letters back with ``retry-reply-to`` set; an edited body replaces the original."""

    def __init__(self, store: DeadLetterStore, reply_to: str, bodies: dict[int, bytes]) -> None:
        self._store, self._reply_to, self._bodies = store, reply_to, bodies

    async def send_back(self, letter: DeadLetter) -> None:
        message = redelivery(letter, self._reply_to, self._bodies.get(letter.tag))
        await self._store.send_back(letter, message)


def retry_recorder(
    settings: Settings, operator: str, reason: str, edited: str | None = None
) -> Recorder:
    """Records each letter sent back: before its headers and body, after its outcome.

    An ``edited`` body makes it a ``dlq.edit``, which keeps the original body whole.
    """

    async def record(letter: DeadLetter, answer: Answer | None) -> None:
        before, after = audit_before(letter, full=edited is not None), audit_after(answer)
        if edited is not None:
            before["body"], after["body"] = before["letter"]["body"], edited
        action = "dlq.retry" if edited is None else "dlq.edit"
        await audit(settings, operator, action, letter, reason, before, after)

    return record


@contextmanager
def progress(total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for a bulk action, when stderr is a terminal."""
    if total < 2 or not sys.stderr.isatty():
        yield lambda n: None
        return
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("retrying", total=total)
        yield lambda n: bar.advance(task, n)


async def send_back(
    session: Session,
    letters: list[DeadLetter],
    bodies: dict[int, bytes],
    record: Recorder,
    rate: float,
    watch_timeout: float,
) -> RetryReport:
    watcher = OutcomeWatcher()
    sender = StoreSender(session.store, await watcher.start(session.connection), bodies)
    with progress(len(letters)) as advance:
        return await retry_letters(
            letters,
            sender,
            watcher,
            record,
            rate=rate,
            watch_timeout=watch_timeout,
            advance=advance,
        )


def report_json(report: RetryReport) -> dict[str, Any]:
    return {
        "selected": report.selected,
        "sent": report.sent,
        "accepted": report.count("accepted"),
        "rejected": report.count("rejected"),
        "failed_again": report.count(*FAILED_AGAIN),
        "no_outcome": report.unanswered,
        "left_in_dlq": report.left,
        "stopped": report.stopped,
        "outcomes": [
            {"id": letter.id, "message_id": letter.message_id, "outcome": answer}
            for letter, answer in report.results
        ],
    }


def finish(report: RetryReport, missing: list[str], as_json: bool) -> None:
    """Print what happened; exit 0 only if every one went back and none failed again."""
    if as_json:
        print_json({**report_json(report), "not_found": missing})
    else:
        typer.echo(
            f"sent back {report.sent} of {report.selected}: {report.count('accepted')} "
            f"accepted, {report.count('rejected')} rejected, "
            f"{report.count(*FAILED_AGAIN)} failed again; {report.left} left in the DLQ"
        )
    if report.stopped:
        silent = report.unanswered
        waiting = f" ({silent} sent back, waiting in their queue)" if silent else ""
        fail(
            f"stopped: {report.stopped}{waiting}; {report.left} left in the DLQ", 3 if silent else 1
        )
    if missing:
        fail(f"not found: {', '.join(missing)}")
