"""API tokens (admins only): list, create (the token is shown once, on the page that
answers the creation, never stored or shown again), revoke; each recorded with a reason."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from tortoise.transactions import in_transaction

from worker.ops.audit_log import record_action
from worker.web import tokens
from worker.web.console.forms import FormError, choice_of, reason_of
from worker.web.console.gate import Refused, Visit, text
from worker.web.console.routing import PREFIX, console_router
from worker.web.console.state import Console, secured


def router(console: Console) -> APIRouter:
    routes = console_router(console)

    async def page(request: Request, visit: Visit, status: int = 200, **more: Any) -> Response:
        return console.page(
            request,
            "tokens.html",
            visit,
            status,
            tokens=await tokens.list_tokens(),
            scopes=tokens.SCOPES,
            **more,
        )

    @routes.get("/tokens")
    async def listing(request: Request) -> Response:
        return await page(request, await console.gate.look(request, "manage"))

    @routes.post("/tokens/create")
    async def create(request: Request) -> Response:
        visit, form = await console.gate.act(request, "manage")
        name, scope = text(form, "name").strip(), text(form, "scope")
        try:
            reason = reason_of(form)
            scope = choice_of(form, "scope", tokens.SCOPES)
            async with in_transaction():  # the token and its audit record, or neither
                try:
                    token = await tokens.create_token(name, scope)
                except (ValueError, tokens.TokenExists) as error:
                    raise FormError("name", str(error)) from None
                after = {"scope": scope}
                await record_action(
                    visit.name, "tokens.create", f"token:{name}", reason, after=after
                )
        except FormError as error:
            return await page(request, visit, 422, errors=error.errors, name=name, scope=scope)
        return await page(
            request, visit, 201, created={"name": name, "scope": scope, "token": token}
        )

    @routes.post("/tokens/{name}/revoke")
    async def revoke(request: Request, name: str) -> Response:
        visit, form = await console.gate.act(request, "manage")
        try:
            reason = reason_of(form)
        except FormError as error:
            return await page(request, visit, 422, errors=error.errors, row=name)
        async with in_transaction():
            if not await tokens.revoke_token(name):
                raise Refused(404, f"no token named {name!r}")
            await record_action(visit.name, "tokens.revoke", f"token:{name}", reason)
        return secured(RedirectResponse(f"{PREFIX}/tokens", status_code=303))

    return routes
