"""How ``dlq resend`` and ``dlq edit`` say what happened, and how they end (exit codes)."""

from __future__ import annotations

from typing import Any, NoReturn

import typer
from aiormq.exceptions import ChannelInvalidStateError

from worker.cli.common import CliError, fail, print_json
from worker.cli.errors import explain, message_of
from worker.ops.dlq.letters import NO_OWN_ID, DeadLetter
from worker.ops.dlq.ramp import FAILED_AGAIN
from worker.ops.dlq.resend_report import ResendInterrupted, ResendReport


def report_json(report: ResendReport) -> dict[str, Any]:
    return {
        "selected": report.selected,
        "sent": report.sent,
        "accepted": report.count("accepted"),
        "rejected": report.count("rejected"),
        "duplicates": report.duplicates,
        "failed_again": report.count(*FAILED_AGAIN),
        "no_outcome": report.unanswered,
        "left_in_dlq": report.left,
        "chunks": report.chunks,
        "stopped": report.stopped,
        "outcomes": [
            {"id": letter.id, "message_id": letter.message_id, "outcome": answer}
            for letter, answer in report.results
        ],
        "no_outcome_awaited": [letter.id for letter in report.unwatched],
        "sent_but_still_in_dlq": [letter.id for letter in report.kept],
    }


def show(report: ResendReport, as_json: bool, **extra: Any) -> None:
    """What happened, on stdout (``extra`` goes into the JSON)."""
    if as_json:
        print_json({**report_json(report), **extra})
        return
    duplicates = f" ({report.duplicates} duplicate)" if report.duplicates else ""
    typer.echo(
        f"sent back {report.sent} of {report.selected}: {report.count('accepted')} "
        f"accepted{duplicates}, {report.count('rejected')} rejected, "
        f"{report.count(*FAILED_AGAIN)} failed again; {report.left} left in the DLQ"
    )


def without_own_id(letters: list[DeadLetter]) -> str:
    """Why these letters were not sent back."""
    return f"not sent back: {', '.join(letter.id for letter in letters)}: {NO_OWN_ID}"


def finish(
    report: ResendReport, missing: list[str], skipped: list[DeadLetter], as_json: bool
) -> None:
    """Print what happened; exit 0 only if every one went back and none failed again."""
    show(report, as_json, not_found=missing, skipped=[letter.id for letter in skipped])
    if report.stopped:
        silent = report.unanswered
        waiting = f" ({silent} sent back, waiting in their queue)" if silent else ""
        fail(
            f"stopped: {report.stopped}{waiting}; {report.left} left in the DLQ", 3 if silent else 1
        )
    if skipped:
        fail(without_own_id(skipped))
    if missing:
        fail(f"not found: {', '.join(missing)}")


def cause(error: BaseException) -> str:
    """What cut a retry short, in a few words."""
    if isinstance(error, ChannelInvalidStateError | ConnectionError):
        return f"the connection to RabbitMQ broke ({message_of(error)})"
    known = explain(error)
    return str(known) if known is not None else f"{type(error).__name__}: {message_of(error)}"


def interrupted(cut: ResendInterrupted, as_json: bool, **extra: Any) -> NoReturn:
    """The report so far on stdout, and one error line: what broke, what was sent."""
    report = cut.report
    show(report, as_json, **extra)
    done = len(report.results) + len(report.unwatched)
    parts = [f"stopped: {cause(cut.error)}", f"{done} sent back and recorded before that"]
    if report.unwatched:
        parts.append(f"{len(report.unwatched)} of them without an outcome yet")
    if report.kept:
        ids = ", ".join(letter.id for letter in report.kept)
        parts.append(
            f"{ids} sent back but still in the DLQ too (the worker's inbox absorbs the duplicate)"
        )
    parts.append(f"{report.left} left in the DLQ")
    raise CliError("; ".join(parts)) from None
