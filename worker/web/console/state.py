"""What every console page shares: the settings and contexts, the templates, the sessions,
and one Temporal client connected on first use."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response
from temporalio.client import Client

from worker.config import Settings
from worker.context import Contexts
from worker.persistence.secrets import shared_secret
from worker.sagas.client import TemporalConnection
from worker.web.console.gate import Gate, Visit
from worker.web.console.sessions import Sessions

HERE = Path(__file__).parent
SESSION_KEY = "console-session"
#: A console page waits no longer than this for Temporal before saying it is unreachable.
TEMPORAL_SECONDS = 5.0
#: Every page: never cached (a created token is shown once), never framed, no script at all.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def when(moment: datetime | str | None) -> str:
    if moment is None or moment == "":
        return "-"
    if isinstance(moment, str):
        try:
            return when(datetime.fromisoformat(moment))
        except ValueError:
            return moment
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def in_path(value: object) -> str:
    """``value`` as one segment of a URL's path: a ``/`` in it is encoded too (Jinja's
    ``urlencode`` keeps it, and ``a/edit`` would be another route)."""
    return quote(str(value), safe="")


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


async def _session_key() -> bytes:
    return await shared_secret(SESSION_KEY)


class Console:
    def __init__(self, settings: Settings, catalog: Contexts) -> None:
        self.settings = settings
        self.catalog = catalog
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.templates.env.filters["when"] = when
        self.templates.env.filters["pretty"] = pretty
        self.templates.env.filters["in_path"] = in_path
        self.sessions = Sessions(settings.console_session_hours, _session_key)
        self.gate = Gate(self.sessions)
        self._temporal = TemporalConnection(settings, catalog.sagas)

    def page(
        self,
        request: Request,
        template: str,
        visit: Visit | None,
        status: int = 200,
        **context: Any,
    ) -> Response:
        """``template`` rendered for ``visit`` (None: nobody is logged in)."""
        response = self.templates.TemplateResponse(
            request, template, {"visit": visit, "status": status, **context}, status_code=status
        )
        return secured(response)

    async def temporal(self) -> Client:
        """The Temporal client; ``TimeoutError`` or the connection's error when unreachable."""
        return await asyncio.wait_for(self._temporal.client(), TEMPORAL_SECONDS)


def secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response
