"""Administrators (admins only): list, add, change a role, remove; each recorded, with a
reason, under the logged-in admin's name, in the change's own transaction. A change takes
effect on that person's next request. Nobody changes or removes themselves here (a last
admin cannot lock all out)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from tortoise.transactions import in_transaction

from worker.ops.audit_log import record_action
from worker.web import admins
from worker.web.console.forms import FormError, choice_of, filled, reason_of
from worker.web.console.gate import Refused, Visit, text
from worker.web.console.routing import PREFIX, console_router
from worker.web.console.state import Console, secured


def router(console: Console) -> APIRouter:
    routes = console_router(console)

    async def page(request: Request, visit: Visit, status: int = 200, **more: Any) -> Response:
        return console.page(
            request,
            "admins.html",
            visit,
            status,
            administrators=await admins.list_administrators(),
            roles=admins.ROLES,
            **more,
        )

    def done() -> Response:
        return secured(RedirectResponse(f"{PREFIX}/admins", status_code=303))

    def not_yourself(visit: Visit, name: str) -> None:
        if name == visit.name:
            raise Refused(409, "you cannot change or remove yourself: ask another admin")

    @routes.get("/admins")
    async def listing(request: Request) -> Response:
        return await page(request, await console.gate.look(request, "manage"))

    @routes.post("/admins/add")
    async def add(request: Request) -> Response:
        visit, form = await console.gate.act(request, "manage")
        name, role = text(form, "name").strip(), text(form, "role")
        try:
            reason = reason_of(form)
            role = choice_of(form, "role", admins.ROLES)
            password = filled(form, "password", "a password")
            async with in_transaction():  # the change and its audit record, or neither
                try:
                    await admins.add_administrator(name, role, password)
                except ValueError as error:
                    field = "password" if "password" in str(error) else "name"
                    raise FormError(field, str(error)) from None
                except admins.AdministratorExists as error:
                    raise FormError("name", str(error)) from None
                target, after = f"administrator:{name}", {"role": role}
                await record_action(visit.name, "admins.add", target, reason, after=after)
        except FormError as error:
            return await page(request, visit, 422, errors=error.errors, name=name, role=role)
        return done()

    @routes.post("/admins/{name}/role")
    async def change_role(request: Request, name: str) -> Response:
        visit, form = await console.gate.act(request, "manage")
        not_yourself(visit, name)
        try:
            reason, role = reason_of(form), choice_of(form, "role", admins.ROLES)
        except FormError as error:
            return await page(request, visit, 422, errors=error.errors, row=name)
        async with in_transaction():
            if not await admins.set_role(name, role):
                raise Refused(404, f"no administrator named {name!r}")
            target, after = f"administrator:{name}", {"role": role}
            await record_action(visit.name, "admins.role", target, reason, after=after)
        return done()

    @routes.post("/admins/{name}/remove")
    async def remove(request: Request, name: str) -> Response:
        visit, form = await console.gate.act(request, "manage")
        not_yourself(visit, name)
        try:
            reason = reason_of(form)
        except FormError as error:
            return await page(request, visit, 422, errors=error.errors, row=name)
        async with in_transaction():
            if not await admins.remove_administrator(name):
                raise Refused(404, f"no administrator named {name!r}")
            await record_action(visit.name, "admins.remove", f"administrator:{name}", reason)
        return done()

    return routes
