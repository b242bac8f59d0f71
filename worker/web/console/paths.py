"""Where a console URL leads, whatever it holds.

A dead letter's id is whatever its ``dlq-id`` header says, so it may hold a ``/``; its
links encode it (``a%2Fedit``). The server decodes a path before routing, which would
make that the ``edit`` route of letter ``a``. So the console's paths are routed as they
were sent (still encoded), and each route decodes its parameters once matched.

A console path that no route takes is the console's 404 page, one that a route takes
with another method its 405: never the API's problem JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from worker.web.console.state import secured

PREFIX = "/console"
#: Set in the scope of a console request routed by its path as sent.
AS_SENT = "console.path_as_sent"
#: Answers a console request with the console's page for ``status``.
ErrorPage = Callable[[Request, int, str, dict[str, str] | None], Awaitable[Response]]


def is_console(path: str) -> bool:
    return path == PREFIX or path.startswith(f"{PREFIX}/")


def as_sent(scope: Scope) -> Scope:
    """The scope of a console request with its path as sent (percent-encoding kept)."""
    path, raw = scope["path"], scope.get("raw_path")
    if not is_console(path) or not isinstance(raw, bytes):
        return scope
    sent = raw.decode("latin-1").split("?", 1)[0]
    decoded = unquote(sent)
    if not path.endswith(decoded):  # a proxy's root path in front is kept as it is
        return scope
    return {**scope, "path": path[: len(path) - len(decoded)] + sent, AS_SENT: True}


def decoded_params(scope: Scope) -> dict[str, object]:
    """The route's parameters as the operator meant them (``a%2Fedit`` is ``a/edit``)."""
    params: dict[str, object] = dict(scope.get("path_params", {}))
    if not scope.get(AS_SENT):
        return params
    return {
        key: unquote(value) if isinstance(value, str) else value for key, value in params.items()
    }


class PathsAsSent:
    """ASGI middleware: console requests are routed by their path as sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(as_sent(scope) if scope["type"] == "http" else scope, receive, send)


class ConsoleFallback(BaseRoute):
    """The last route: a console path no route took. It matches only partly, so that a
    route that has the path with another method, found first, answers its 405."""

    def __init__(self, page: ErrorPage) -> None:
        self.page = page

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_console(scope["path"]):
            return Match.PARTIAL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        path = scope["path"]
        response: Response
        if path.endswith("/") and request.method in ("GET", "HEAD"):
            query = scope.get("query_string", b"").decode("latin-1")
            target = path.rstrip("/") or PREFIX
            response = secured(RedirectResponse(f"{target}?{query}" if query else target, 307))
        else:
            response = await self.page(request, 404, "there is no such console page", None)
        await response(scope, receive, send)


class ConsoleStaticFiles(StaticFiles):
    """The console's files; a missing one is the console's 404 page."""

    def __init__(self, directory: str, page: ErrorPage) -> None:
        super().__init__(directory=directory)
        self.page = page

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as error:
            headers = dict(error.headers or {})
            return await self.page(Request(scope), error.status_code, "no such file", headers)
