"""The console's routes answer every failure with a page of its own: a login for a visit
without a session, a one-line reason for a refusal, a notice for a server that is down;
never a traceback, and never the API's problem JSON."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from aio_pika.exceptions import AMQPError
from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from temporalio.service import RPCError

from worker.cli.common import CliError
from worker.cli.errors import DATABASE_ERRORS, amqp_failure, database_failure
from worker.web.console.gate import LoginNeeded, Refused, Visit
from worker.web.console.state import Console, secured

log = logging.getLogger("worker.console")
PREFIX = "/console"


def login_redirect(request: Request) -> Response:
    target = request.url.path
    return secured(RedirectResponse(f"{PREFIX}/login?next={quote(target)}", status_code=303))


def _failure(console: Console, error: Exception) -> tuple[int, str]:
    """The status and line for what went wrong, servers' addresses without passwords."""
    settings = console.settings
    if isinstance(error, Refused):
        return error.status, error.message
    if isinstance(error, CliError):
        return 409, str(error)
    if isinstance(error, HTTPException):
        return error.status_code, str(error.detail)
    if isinstance(error, AMQPError):
        return 503, str(amqp_failure(error, settings.amqp_url))
    if isinstance(error, RPCError):
        return 503, f"Temporal at {settings.temporal_address} refused: {error.message}"
    if isinstance(error, DATABASE_ERRORS):
        return 503, str(database_failure(error, settings.database_url))
    log.exception("console: %s failed", type(error).__name__)
    return 500, "something went wrong on the server (it is logged); nothing more was done"


def console_router(console: Console) -> APIRouter:
    """A router whose routes answer failures as console pages."""

    class ConsoleRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def answered(request: Request) -> Response:
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
                    visit = await _visit_or_none(console, request)
                    return console.page(request, "error.html", visit, status, message=message)

            return answered

    return APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


async def _visit_or_none(console: Console, request: Request) -> Visit | None:
    """Who is logged in, for the error page's menu (nobody, if that fails too)."""
    try:
        return await console.gate.visit(request)
    except Exception:
        return None
