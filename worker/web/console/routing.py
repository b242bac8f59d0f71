"""The console's routes answer every failure with a page of its own: a login for a visit
without a session, a one-line reason for a refusal, a notice for a server that is down;
never a traceback, and never the API's problem JSON."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from aio_pika.exceptions import AMQPError
from aiormq.exceptions import ChannelInvalidStateError
from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send
from temporalio.service import RPCError

from worker.cli.common import CliError
from worker.cli.errors import DATABASE_ERRORS, amqp_failure, database_failure
from worker.ops.dlq.session import ServerUnavailable
from worker.web.console.gate import LoginNeeded, Refused, Visit
from worker.web.console.paths import PREFIX, decoded_params
from worker.web.console.state import Console, secured

__all__ = ["PREFIX", "console_router", "error_page", "login_redirect"]
log = logging.getLogger("worker.console")


def login_redirect(request: Request) -> Response:
    """To the login page, which leads back here (the path as sent: its ids stay encoded)."""
    target = quote(request.scope["path"], safe="/")
    return secured(RedirectResponse(f"{PREFIX}/login?next={target}", status_code=303))


def _failure(console: Console, error: Exception) -> tuple[int, str]:
    """The status and line for what went wrong, servers' addresses without passwords."""
    settings = console.settings
    if isinstance(error, Refused):
        return error.status, error.message
    if isinstance(error, ServerUnavailable):
        return 503, f"{error}; nothing was done: try again once it is back"
    if isinstance(error, CliError):
        return 409, str(error)
    if isinstance(error, HTTPException):
        return error.status_code, str(error.detail)
    if isinstance(error, AMQPError | ChannelInvalidStateError):
        return 503, str(amqp_failure(error, settings.amqp_url))
    if isinstance(error, RPCError):
        return 503, f"Temporal at {settings.temporal_address} refused: {error.message}"
    if isinstance(error, TimeoutError):  # an OSError too, but not the database's
        return 503, "a server did not answer in time; try again shortly"
    if isinstance(error, DATABASE_ERRORS):
        return 503, str(database_failure(error, settings.database_url))
    log.exception("console: %s failed", type(error).__name__)
    return 500, "something went wrong on the server (it is logged); nothing more was done"


async def error_page(
    console: Console,
    request: Request,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """The console's page for a failure, with the menu of whoever is logged in."""
    response = console.page(
        request, "error.html", await _visit_or_none(console, request), status, message=message
    )
    response.headers.update(headers or {})
    return response


def console_router(console: Console) -> APIRouter:
    """A router whose routes answer failures as console pages."""

    class ConsoleRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def answered(request: Request) -> Response:
                request.scope["path_params"] = decoded_params(request.scope)
                try:
                    return await handler(request)
                except LoginNeeded:
                    if request.method in ("GET", "HEAD"):
                        return login_redirect(request)
                    return console.page(
                        request, "error.html", None, 401, message="log in first: nothing was done"
                    )
                except Exception as error:
                    status, message = _failure(console, error)
                    if status >= 500:
                        log.warning("console: %s %s: %s", request.method, request.url.path, message)
                    return await error_page(console, request, status, message)

            return answered

        async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
            """A method this path does not take: the console's 405 page."""
            if scope["type"] == "http" and self.methods and scope["method"] not in self.methods:
                allowed = ", ".join(sorted(self.methods))
                message = f"this page takes {allowed} only"
                page = await error_page(
                    console, Request(scope, receive), 405, message, {"Allow": allowed}
                )
                await page(scope, receive, send)
                return
            await super().handle(scope, receive, send)

    return APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


async def _visit_or_none(console: Console, request: Request) -> Visit | None:
    """Who is logged in, for the error page's menu (nobody, if that fails too)."""
    try:
        return await console.gate.visit(request)
    except Exception:
        return None
