"""The operator console, served at ``/console`` by the front door's process.

Server-rendered pages (Jinja2, no JavaScript), its own session cookie and CSRF tokens;
every asset in ``static/``. See ``routing`` for how failures become pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from worker.config import Settings
    from worker.context import Contexts


def mount_console(app: FastAPI, settings: Settings, catalog: Contexts) -> None:
    """Add the console's routes and its static files to ``app``.

    Tortoise must be connected by the caller (sessions, administrators and the audit log
    are read from it); RabbitMQ and Temporal are reached when a page needs them.
    """
    from starlette.staticfiles import StaticFiles

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
    from worker.web.console.state import HERE, Console

    console = Console(settings, catalog)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    pages = (login, home, edit_pages, letter_pages, group_pages, saga_pages, audit_pages)
    for module in (*pages, admin_pages, token_pages):
        app.include_router(module.router(console))
