"""Edit and retry: the body as JSON in a form, checked against the command's contract
(identity fields locked), the change shown field by field, then sent once confirmed.

The confirmed body is checked again: the form's hidden copy is never trusted as valid.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from worker.cli.common import CliError
from worker.ops.dlq.edit_cli import refuse_processed
from worker.ops.dlq.editing import body_as_text, edited_command, require_command
from worker.ops.dlq.letters import NO_OWN_ID, DeadLetter, has_own_id
from worker.ops.dlq.session import processed_status
from worker.web.console import dead_letters
from worker.web.console.diffs import body_changes
from worker.web.console.forms import FormError, reason_of
from worker.web.console.gate import Refused, Visit, text
from worker.web.console.letter_pages import resent_page
from worker.web.console.routing import console_router
from worker.web.console.state import Console


def router(console: Console) -> APIRouter:
    routes = console_router(console)
    registry = console.catalog.commands

    async def editable(queue: str, letter_id: str) -> tuple[DeadLetter, str]:
        letter = await dead_letters.find(console, queue, letter_id)
        if not has_own_id(letter):
            raise Refused(409, f"cannot edit {letter.id}: {NO_OWN_ID}")
        return letter, require_command(letter.command, letter.id, registry)

    def edit_form(
        request: Request,
        visit: Visit,
        queue: str,
        letter: DeadLetter,
        name: str,
        status: int,
        **context: Any,
    ) -> Response:
        return console.page(
            request,
            "edit.html",
            visit,
            status,
            queue=queue,
            letter=letter,
            command=name,
            locked=registry.public[name].identity_fields,
            **context,
        )

    def checked(name: str, letter: DeadLetter, form: FormData) -> tuple[str, bytes]:
        """The reason, and the edited body as the command writes it (``FormError`` if not)."""
        reason = reason_of(form)
        try:
            command = edited_command(name, letter.body, text(form, "body"), registry)
        except CliError as refused:
            raise FormError("body", str(refused)) from None
        return reason, command.model_dump_json().encode()

    async def submitted(
        request: Request, queue: str, letter_id: str
    ) -> tuple[Visit, DeadLetter, str, str, bytes] | Response:
        """The acting visit, the letter, its command, and the checked reason and body; or
        the form again (422) saying what is wrong. Preview and confirm both check."""
        visit, form = await console.gate.act(request, "act")
        letter, name = await editable(queue, letter_id)
        try:
            reason, body = checked(name, letter, form)
        except FormError as error:
            sent = {"body": text(form, "body"), "reason": text(form, "reason")}
            return edit_form(request, visit, queue, letter, name, 422, errors=error.errors, **sent)
        return visit, letter, name, reason, body

    @routes.get("/letters/{queue}/{letter_id}/edit")
    async def edit(request: Request, queue: str, letter_id: str) -> Response:
        visit = await console.gate.look(request, "act")
        letter, name = await editable(queue, letter_id)
        body = body_as_text(letter.body)
        return edit_form(request, visit, queue, letter, name, 200, body=body)

    @routes.post("/letters/{queue}/{letter_id}/edit")
    async def preview(request: Request, queue: str, letter_id: str) -> Response:
        answer = await submitted(request, queue, letter_id)
        if isinstance(answer, Response):
            return answer
        visit, letter, name, reason, body = answer
        changes = body_changes(letter.body, body, registry.public[name].identity_fields)
        return console.page(
            request,
            "edit_preview.html",
            visit,
            queue=queue,
            letter=letter,
            command=name,
            changes=changes,
            changed=any(change.changed for change in changes),
            body=body.decode(),
            reason=reason,
        )

    @routes.post("/letters/{queue}/{letter_id}/edit/confirm")
    async def confirm(request: Request, queue: str, letter_id: str) -> Response:
        answer = await submitted(request, queue, letter_id)
        if isinstance(answer, Response):
            return answer
        visit, letter, _, reason, body = answer
        refuse_processed(letter, await processed_status(console.settings, letter.message_id or ""))
        dlq = dead_letters.dlq_of(console.catalog, queue)
        resent = await dead_letters.resend(console, dlq, [letter], visit.name, reason, edited=body)
        duplicate = any(answer and answer.get("duplicate") for answer in resent.answers)
        return resent_page(
            console, request, visit, queue, [letter], resent, edited=True, duplicate=duplicate
        )

    return routes
