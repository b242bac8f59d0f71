"""Logging in and out. The login page is public; its form carries a CSRF nonce of its own
(there is no session yet), checked before the name and password are even looked at."""

from __future__ import annotations

import math

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from worker.web.admins import LoginRefused, log_in
from worker.web.console.gate import Refused, text
from worker.web.console.routing import PREFIX, console_router
from worker.web.console.sessions import COOKIE, LOGIN_COOKIE, LOGIN_SECONDS
from worker.web.console.state import Console, secured


def _next_page(target: str) -> str:
    """Only a console page of this server: never another site (an open redirect)."""
    safe = target.startswith(PREFIX) and not target.startswith("//") and "\\" not in target
    return target if safe and target != f"{PREFIX}/login" else PREFIX


def refusal_text(refused: LoginRefused) -> str:
    if refused.retry_after is None:
        return "wrong name or password"
    return f"too many failed logins for this name: wait {math.ceil(refused.retry_after)} s"


def router(console: Console) -> APIRouter:
    routes = console_router(console)

    def _secure(request: Request) -> bool:
        return console.settings.https_only or request.url.scheme == "https"

    async def form(request: Request, status: int = 200, **context: object) -> Response:
        cookie, nonce = await console.sessions.login_nonce()
        target = _next_page(str(context.pop("next", None) or request.query_params.get("next", "")))
        response = console.page(
            request, "login.html", None, status, nonce=nonce, next=target, **context
        )
        response.set_cookie(
            LOGIN_COOKIE,
            cookie,
            max_age=LOGIN_SECONDS,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
        )
        return response

    @routes.get("/login")
    async def login_page(request: Request) -> Response:
        if await console.gate.visit(request) is not None:
            return secured(RedirectResponse(PREFIX, status_code=303))
        return await form(request)

    @routes.post("/login")
    async def login(request: Request) -> Response:
        submitted = await request.form()
        name, target = text(submitted, "name").strip(), text(submitted, "next")
        if not await console.sessions.is_login_nonce(
            request.cookies.get(LOGIN_COOKIE), submitted.get("csrf")
        ):
            raise Refused(403, "the login form's CSRF token is missing or wrong: reload the page")
        try:
            administrator = await log_in(name, text(submitted, "password"))
        except LoginRefused as refused:
            status = 401 if refused.retry_after is None else 429
            return await form(request, status, error=refusal_text(refused), name=name, next=target)
        if (earlier := await console.sessions.find(request.cookies.get(COOKIE))) is not None:
            await console.sessions.close(earlier.id)  # one session per browser
        cookie, _ = await console.sessions.open(administrator.name)
        response = secured(RedirectResponse(_next_page(target), status_code=303))
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=console.sessions.seconds,
            path=PREFIX,
            httponly=True,
            samesite="lax",
            secure=_secure(request),
        )
        response.delete_cookie(LOGIN_COOKIE, path=PREFIX, secure=_secure(request))
        return response

    @routes.post("/logout")
    async def logout(request: Request) -> Response:
        visit, _ = await console.gate.act(request, "look")
        await console.sessions.close(visit.session.id)
        response = secured(RedirectResponse(f"{PREFIX}/login", status_code=303))
        response.delete_cookie(COOKIE, path=PREFIX, secure=_secure(request))
        return response

    return routes
