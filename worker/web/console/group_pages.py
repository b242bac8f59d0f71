"""A group of dead letters (one DLQ, failure class and error code): a preview naming each
letter that would go, then a ramped retry of exactly those (never of what joined since)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from worker.ops.dlq.letters import NO_OWN_ID, DeadLetter, has_own_id
from worker.ops.dlq.resending import CHUNK_LETTERS
from worker.ops.dlq.views import summary
from worker.web.console import dead_letters
from worker.web.console.forms import FormError, reason_of
from worker.web.console.gate import Visit
from worker.web.console.letter_pages import resent_page
from worker.web.console.routing import console_router
from worker.web.console.state import Console

GROUP = "/groups/{queue}/{failure_class}/{error_code}"
#: A group's page names at most this many of its letters (a retry sends those only).
SHOWN = CHUNK_LETTERS


def router(console: Console) -> APIRouter:
    routes = console_router(console)

    async def members(
        queue: str, key: tuple[str, str], ids: Collection[str] | None = None
    ) -> list[DeadLetter]:
        """The group's first ``SHOWN`` letters, or (``ids``) every copy of those in it."""

        def wanted(letter: DeadLetter) -> bool:
            chosen = ids is None or letter.id in ids
            return chosen and (letter.failure_class, letter.error_code) == key

        dlq = dead_letters.dlq_of(console.catalog, queue)
        limit = SHOWN if ids is None else None
        _, letters = await dead_letters.read_letters(console, [dlq], wanted, limit)
        return letters

    async def preview_page(
        request: Request, visit: Visit, queue: str, key: tuple[str, str], status: int, **more: Any
    ) -> Response:
        letters = await members(queue, key)
        return console.page(
            request,
            "group.html",
            visit,
            status,
            queue=queue,
            failure_class=key[0],
            error_code=key[1],
            going=[summary(letter) for letter in letters if has_own_id(letter)],
            staying=[summary(letter) for letter in letters if not has_own_id(letter)],
            no_own_id=NO_OWN_ID,
            capped=len(letters) >= SHOWN,
            **more,
        )

    @routes.get(GROUP)
    async def preview(
        request: Request, queue: str, failure_class: str, error_code: str
    ) -> Response:
        visit = await console.gate.look(request)
        return await preview_page(request, visit, queue, (failure_class, error_code), 200)

    @routes.post(GROUP + "/retry")
    async def retry(request: Request, queue: str, failure_class: str, error_code: str) -> Response:
        visit, form = await console.gate.act(request, "act")
        key = (failure_class, error_code)
        ids = [value for value in form.getlist("id") if isinstance(value, str)]
        try:
            reason = reason_of(form)
            if not ids:
                raise FormError("id", "no letter was chosen: preview the group again")
        except FormError as error:
            return await preview_page(request, visit, queue, key, 422, errors=error.errors)
        wanted = set(ids)
        chosen = [x for x in await members(queue, key, wanted) if has_own_id(x)]
        missing = sorted(wanted - {x.id for x in chosen})
        if not chosen:
            problem = {"id": f"none of the {len(wanted)} previewed letters is in the group now"}
            return await preview_page(request, visit, queue, key, 409, errors=problem)
        dlq = dead_letters.dlq_of(console.catalog, queue)
        resent = await dead_letters.resend(console, dlq, chosen, visit.name, reason)
        return resent_page(console, request, visit, queue, chosen, resent, missing=missing)

    return routes
