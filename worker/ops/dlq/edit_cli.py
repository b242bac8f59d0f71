"""``dlq edit``: fix a dead letter's body and send it back, audited."""

from __future__ import annotations

import asyncio
from typing import Any

import typer

from worker.cli.common import fail, load_settings, run_async
from worker.ops.audit import audit_trail
from worker.ops.audit_log import default_operator
from worker.ops.dlq.editing import (
    body_as_text,
    edited_command,
    open_editor,
    parse_sets,
    require_command,
)
from worker.ops.dlq.letters import NO_OWN_ID, DeadLetter, has_own_id
from worker.ops.dlq.report import finish, interrupted, show
from worker.ops.dlq.resend_cli import RESEND_REASON, TIMEOUT
from worker.ops.dlq.resend_report import ResendInterrupted, ResendReport
from worker.ops.dlq.resending import ResendAudit, send_in_chunks
from worker.ops.dlq.session import (
    JSON,
    OPERATOR,
    QUEUE,
    browsing,
    connected,
    dead_letter_queues,
    processed_status,
)


def edit(
    dlq_id: str = typer.Argument(..., metavar="ID", help="As `dlq list` shows it."),
    pairs: list[str] = typer.Option(
        None, "--set", help="key=value, repeatable; without it the body opens in $EDITOR."
    ),
    queue: str = QUEUE,
    watch_timeout: float = TIMEOUT,
    reason: str = RESEND_REASON,
    operator: str = OPERATOR,
    as_json: bool = JSON,
) -> None:
    """Fix a dead letter's body, then send it back with its message id.

    The edited body must be a valid command and its identity fields (account_id,
    transfer_id...) cannot change; otherwise nothing is sent. Nor is it sent when
    the worker already processed its message id (the edit could change nothing),
    or when it has no message id of its own. The audit log keeps the original.
    """
    settings, dlqs = load_settings(), dead_letter_queues(queue)
    who = operator or default_operator()

    async def work() -> None:
        async with audit_trail(settings):
            async with browsing(settings, dlqs) as session:  # not held while editing
                letter = session.one(dlq_id)
            if not has_own_id(letter):
                fail(f"cannot edit {dlq_id}: {NO_OWN_ID}")
            name = require_command(letter.command, letter.id)
            if pairs:
                edits: dict[str, Any] | str = parse_sets(name, pairs)
            else:
                edits = await asyncio.to_thread(open_editor, body_as_text(letter.body))
            body = edited_command(name, letter.body, edits).model_dump_json().encode()
            audit = ResendAudit(settings, who, reason, edited=body.decode())
            async with connected(settings) as connection:
                refuse_processed(letter, await processed_status(settings, letter.message_id or ""))
                try:
                    report = await send_in_chunks(
                        connection,
                        session.dlqs,
                        [letter],
                        audit,
                        rate=1.0,
                        watch_timeout=watch_timeout,
                        bodies={letter.id: body},
                        chunk=1,
                    )
                except ResendInterrupted as cut:
                    interrupted(cut, as_json)
            finish_edit(report, letter, as_json)

    run_async(work())


def refuse_processed(letter: DeadLetter, status: str | None) -> None:
    """One error line if the worker already processed the letter's message id."""
    if status is not None:
        fail(
            f"message id {letter.message_id} was already processed ({status}): the worker "
            f"answers it from its inbox, so an edit would change nothing; nothing was sent "
            f"(purge {letter.id} if this copy is not needed)"
        )


def finish_edit(report: ResendReport, letter: DeadLetter, as_json: bool) -> None:
    """As ``finish``; but a duplicate answer is no successful edit."""
    answer = report.results[0][1] if report.results else None
    if answer and answer.get("duplicate"):
        show(report, as_json)
        fail(
            f"duplicate: message id {letter.message_id} had already been processed "
            f"({answer['status']}), so the edit changed nothing; the DLQ copy is removed "
            "and both bodies are in the audit log"
        )
    finish(report, [], [], as_json)
