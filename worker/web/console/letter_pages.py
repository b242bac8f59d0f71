"""One dead letter: what it is and why it failed, what was done to it, and sending it back
or purging it (operators and admins, with a reason)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from worker.ops.audit_log import list_actions
from worker.ops.dlq.letters import NO_OWN_ID, DeadLetter, has_own_id
from worker.ops.dlq.views import letter_json
from worker.web.console import dead_letters
from worker.web.console.forms import FormError, reason_of
from worker.web.console.gate import Refused, Visit
from worker.web.console.routing import console_router
from worker.web.console.state import Console

#: Earlier actions shown on a letter's page.
HISTORY = 50


def router(console: Console) -> APIRouter:
    routes = console_router(console)

    async def letter_page(
        request: Request,
        visit: Visit,
        queue: str,
        letter_id: str,
        status: int = 200,
        **context: Any,
    ) -> Response:
        letter = await dead_letters.find(console, queue, letter_id)
        return console.page(
            request,
            "letter.html",
            visit,
            status,
            queue=queue,
            letter=letter_json(letter),
            own_id=has_own_id(letter),
            no_own_id=NO_OWN_ID,
            history=await list_actions(limit=HISTORY, target=letter.id),
            **context,
        )

    @routes.get("/letters/{queue}/{letter_id}")
    async def letter(request: Request, queue: str, letter_id: str) -> Response:
        return await letter_page(request, await console.gate.look(request), queue, letter_id)

    @routes.post("/letters/{queue}/{letter_id}/retry")
    async def retry(request: Request, queue: str, letter_id: str) -> Response:
        visit, form = await console.gate.act(request, "act")
        try:
            reason = reason_of(form)
        except FormError as error:
            return await letter_page(
                request, visit, queue, letter_id, 422, errors={"retry": error.message}
            )
        copies = await dead_letters.every_copy(console, queue, letter_id)
        if not has_own_id(copies[0]):
            return await letter_page(
                request, visit, queue, letter_id, 409, errors={"retry": NO_OWN_ID}
            )
        dlq = dead_letters.dlq_of(console.catalog, queue)
        resent = await dead_letters.resend(console, dlq, copies, visit.name, reason)
        return resent_page(console, request, visit, queue, copies, resent)

    @routes.post("/letters/{queue}/{letter_id}/purge")
    async def purge(request: Request, queue: str, letter_id: str) -> Response:
        visit, form = await console.gate.act(request, "act")
        try:
            reason = reason_of(form)
        except FormError as error:
            return await letter_page(
                request, visit, queue, letter_id, 422, errors={"purge": error.message}
            )
        dlq = dead_letters.dlq_of(console.catalog, queue)
        purged = await dead_letters.purge(console, dlq, letter_id, visit.name, reason)
        if not purged:
            raise Refused(404, f"no dead letter {letter_id!r} in {dlq}: nothing was purged")
        return console.page(
            request, "purged.html", visit, queue=queue, letter_id=letter_id, copies=len(purged)
        )

    return routes


def resent_page(
    console: Console,
    request: Request,
    visit: Visit,
    queue: str,
    letters: list[DeadLetter],
    resent: dead_letters.Resent,
    **context: Any,
) -> Response:
    """What a retry did; 200 only when every letter went back and none failed again."""
    report = resent.report
    clean = resent.broken is None and report["stopped"] is None
    return console.page(
        request,
        "resent.html",
        visit,
        200 if clean else 409,
        queue=queue,
        report=report,
        broken=resent.broken,
        letters=list(dict.fromkeys(letter.id for letter in letters)),
        **context,
    )
