"""``dlq retry`` and ``dlq edit``: send dead letters back, as they are or fixed; audited."""

from __future__ import annotations

import asyncio
from typing import Any

import typer

from worker.adapters.audit import default_operator
from worker.adapters.rabbitmq.dead_letter_groups import select
from worker.adapters.rabbitmq.dlq_retry import RetryReport
from worker.entrypoints.audit import audit_trail
from worker.entrypoints.common import fail, load_settings, run_async
from worker.entrypoints.dlq_edit import (
    body_as_text,
    edited_command,
    open_editor,
    parse_sets,
    require_command,
)
from worker.entrypoints.dlq_sending import finish, retry_recorder, send_back
from worker.entrypoints.dlq_session import (
    JSON,
    OPERATOR,
    QUEUE,
    browsing,
    dead_letter_queues,
)

IDS = typer.Argument(None, metavar="ID...", help="Dead letters, as `dlq list` shows them.")
GROUP = typer.Option(None, "--group", help="Every dead letter with this error code.")
TIMEOUT = typer.Option(
    30.0, "--watch-timeout", min=0.1, help="Seconds to wait for the outcomes of each batch."
)
RETRY_REASON = typer.Option("", "--reason", help="Why: kept in the audit log.")


def _rate(text: str) -> float:
    try:
        rate = float(text.strip().removesuffix("/s"))
    except ValueError:
        fail(f"--rate expects N/s (e.g. 10/s), not {text!r}", 2)
    if not 0 < rate < float("inf"):
        fail(f"--rate must be more than 0/s, not {text!r}", 2)
    return rate


def one_way(ids: list[str], group_code: str | None, everything: bool, ways: str) -> None:
    if sum([bool(ids), group_code is not None, everything]) != 1:
        fail(f"say which dead letters: {ways} (one of them)", 2)


def retry(
    ids: list[str] = IDS,
    group_code: str = GROUP,
    everything: bool = typer.Option(False, "--all", help="Every dead letter (of --queue)."),
    queue: str = QUEUE,
    rate: str = typer.Option("20/s", "--rate", help="At most N messages a second: N/s."),
    watch_timeout: float = TIMEOUT,
    reason: str = RETRY_REASON,
    operator: str = OPERATOR,
    as_json: bool = JSON,
) -> None:
    """Send dead letters back to their queue, with their message id, ramping up.

    The first goes alone and its outcome is awaited, then batches of 2, 4, 8...
    It stops as soon as one fails again, or no outcome comes within
    --watch-timeout, and the rest stay in the DLQ. A DLQ copy is removed only once
    the broker confirmed the copy sent back. Exit 0 when all went back and none
    failed again, 1 when it stopped or an id was not found, 3 when no outcome came.
    """
    one_way(ids or [], group_code, everything, "IDs, --group CODE or --all")
    per_second, settings, dlqs = _rate(rate), load_settings(), dead_letter_queues(queue)
    record = retry_recorder(settings, operator or default_operator(), reason)

    async def work() -> tuple[RetryReport, list[str]]:
        async with audit_trail(settings), browsing(settings, dlqs) as session:
            chosen = select(session.letters, ids or [], group_code, everything)
            if not chosen.letters:
                unknown = f" (not found: {', '.join(chosen.missing)})" if chosen.missing else ""
                fail(f"no dead letter matches in {', '.join(session.dlqs)}{unknown}")
            report = await send_back(session, chosen.letters, {}, record, per_second, watch_timeout)
            return report, chosen.missing

    finish(*run_async(work()), as_json)


def edit(
    dlq_id: str = typer.Argument(..., metavar="ID", help="As `dlq list` shows it."),
    pairs: list[str] = typer.Option(
        None, "--set", help="key=value, repeatable; without it the body opens in $EDITOR."
    ),
    queue: str = QUEUE,
    watch_timeout: float = TIMEOUT,
    reason: str = RETRY_REASON,
    operator: str = OPERATOR,
    as_json: bool = JSON,
) -> None:
    """Fix a dead letter's body, then send it back with its message id.

    The edited body must be a valid command and its identity fields (account_id,
    transfer_id...) cannot change; otherwise nothing is sent. The audit record
    keeps the original body and the edited one.
    """
    settings, dlqs = load_settings(), dead_letter_queues(queue)
    who = operator or default_operator()

    async def work() -> RetryReport:
        async with audit_trail(settings):
            async with browsing(settings, dlqs) as session:  # not held while editing
                letter = session.one(dlq_id)
            name = require_command(letter.command)
            if pairs:
                edits: dict[str, Any] | str = parse_sets(name, pairs)
            else:
                edits = await asyncio.to_thread(open_editor, body_as_text(letter.body))
            body = edited_command(name, letter.body, edits).model_dump_json().encode()
            record = retry_recorder(settings, who, reason, edited=body.decode())
            async with browsing(settings, dlqs) as session:
                current = [x for x in session.letters if x.id == dlq_id][:1]
                if not current:
                    fail(f"{dlq_id} left the DLQ meanwhile (sent back or purged); nothing was sent")
                bodies = {current[0].tag: body}
                return await send_back(session, current, bodies, record, 1.0, watch_timeout)

    finish(run_async(work()), [], as_json)
