"""``dlq resend``: send dead letters back as they are, audited; and what ``dlq`` actions share."""

from __future__ import annotations

import math

import typer

from worker.cli.common import fail, load_settings, run_async, seconds, shown
from worker.ops.audit import audit_trail
from worker.ops.audit_log import default_operator
from worker.ops.dlq.groups import select
from worker.ops.dlq.letters import has_own_id
from worker.ops.dlq.report import finish, interrupted, without_own_id
from worker.ops.dlq.resend_report import ResendInterrupted
from worker.ops.dlq.resending import CHUNK_LETTERS, ResendAudit, send_in_chunks
from worker.ops.dlq.session import JSON, OPERATOR, QUEUE, connected, dead_letter_queues, look

IDS = typer.Argument(None, metavar="ID...", help="Dead letters, as `dlq list` shows them.")
GROUP = typer.Option(None, "--group", help="Every dead letter with this error code.")
TIMEOUT = typer.Option(
    30.0,
    "--watch-timeout",
    callback=seconds(at_least=0.1, at_most=600.0),
    help="Seconds to wait for the outcomes of each batch (0.1 to 600).",
)
RESEND_REASON = typer.Option("", "--reason", help="Why: kept in the audit log.")


def _rate(text: str) -> float:
    try:
        rate = float(text.strip().removesuffix("/s"))
    except ValueError:
        fail(f"--rate expects N/s (e.g. 10/s), not {shown(text)}", 2)
    if not (math.isfinite(rate) and rate > 0):
        fail(f"--rate must be a finite number more than 0/s, not {shown(text)}", 2)
    return rate


def one_way(ids: list[str], group_code: str | None, everything: bool, ways: str) -> None:
    if sum([bool(ids), group_code is not None, everything]) != 1:
        fail(f"say which dead letters: {ways} (one of them)", 2)


def resend(
    ids: list[str] = IDS,
    group_code: str = GROUP,
    everything: bool = typer.Option(False, "--all", help="Every dead letter (of --queue)."),
    queue: str = QUEUE,
    rate: str = typer.Option("20/s", "--rate", help="At most N messages a second: N/s."),
    watch_timeout: float = TIMEOUT,
    reason: str = RESEND_REASON,
    operator: str = OPERATOR,
    as_json: bool = JSON,
    chunk: int = typer.Option(CHUNK_LETTERS, "--chunk-size", min=1, hidden=True),
) -> None:
    """Send dead letters back to their queue, with their message id, ramping up.

    The first goes alone and its outcome is awaited, then batches of 2, 4, 8...
    It stops as soon as one fails again, or no outcome comes within
    --watch-timeout, and the rest stay in the DLQ. A DLQ copy is removed only once
    the broker confirmed the copy sent back and the audit log recorded it. A
    letter without a message id of its own is never sent back. Exit 0 when all
    went back and none failed again, 1 when it stopped, an id was not found or a
    letter was skipped, 3 when no outcome came.
    """
    one_way(ids or [], group_code, everything, "IDs, --group CODE or --all")
    per_second, settings, dlqs = _rate(rate), load_settings(), dead_letter_queues(queue)
    audit = ResendAudit(settings, operator or default_operator(), reason)

    async def work() -> None:
        async with audit_trail(settings), connected(settings) as connection:
            session = await look(connection, dlqs)
            chosen = select(session.letters, ids or [], group_code, everything)
            if not chosen.letters:
                unknown = f" (not found: {', '.join(chosen.missing)})" if chosen.missing else ""
                fail(f"no dead letter matches in {', '.join(session.dlqs)}{unknown}")
            letters = [letter for letter in chosen.letters if has_own_id(letter)]
            skipped = [letter for letter in chosen.letters if not has_own_id(letter)]
            if not letters:
                fail(without_own_id(skipped))
            extra = {"not_found": chosen.missing, "skipped": [x.id for x in skipped]}
            try:
                report = await send_in_chunks(
                    connection,
                    session.dlqs,
                    letters,
                    audit,
                    rate=per_second,
                    watch_timeout=watch_timeout,
                    chunk=chunk,
                )
            except ResendInterrupted as cut:
                interrupted(cut, as_json, **extra)
            finish(report, chosen.missing, skipped, as_json)

    run_async(work())
