"""The operator console, served at ``/console`` by the front door's process.

Server-rendered pages (Jinja2, no JavaScript), its own session cookie and CSRF tokens;
every asset in ``static/``. See ``routing`` for how failures become pages, and ``paths``
for how its URLs are routed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.responses import Response
    from starlette.types import Scope

    from worker.config import Settings
    from worker.context import Contexts

#: Where ``mount_console`` leaves the console on ``app.state``.
STATE = "console"


def mount_console(app: FastAPI, settings: Settings, catalog: Contexts) -> None:
    """Add the console's routes and its static files to ``app``.

    Tortoise must be connected by the caller (sessions, administrators and the audit log
    are read from it); RabbitMQ and Temporal are reached when a page needs them.
    """
    from starlette.requests import Request

    from worker.web.console import (
        admin_pages,
        audit_pages,
        edit_pages,
        group_pages,
        home,
        letter_pages,
        login,
        saga_pages,
        token_pages,
    )
    from worker.web.console.paths import ConsoleFallback, ConsoleStaticFiles, PathsAsSent
    from worker.web.console.routing import error_page
    from worker.web.console.state import HERE, Console

    console = Console(settings, catalog)
    setattr(app.state, STATE, console)

    async def page(
        request: Request, status: int, message: str, headers: dict[str, str] | None
    ) -> Response:
        return await error_page(console, request, status, message, headers)

    app.add_middleware(PathsAsSent)
    static = ConsoleStaticFiles(str(HERE / "static"), page)
    app.mount("/console/static", static, name="console-static")
    pages = (login, home, edit_pages, letter_pages, group_pages, saga_pages, audit_pages)
    for module in (*pages, admin_pages, token_pages):
        app.include_router(module.router(console))
    app.router.routes.append(ConsoleFallback(page))


async def console_error(scope: Scope, status: int, message: str) -> Response | None:
    """The console's own page for an answer given before routing (the body limit's 413)
    to a request under ``/console``; None for any other path, or an app without it."""
    from starlette.requests import Request

    from worker.web.console.paths import is_console
    from worker.web.console.routing import error_page

    console = getattr(getattr(scope.get("app"), "state", None), STATE, None)
    if console is None or scope.get("type") != "http" or not is_console(scope["path"]):
        return None
    return await error_page(console, Request(scope), status, message)
