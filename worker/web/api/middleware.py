"""What wraps every request, the console's included: the body-size limit and the access log."""

from __future__ import annotations

import logging
import re
import time

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from worker.web.console import console_error
from worker.web.problems import Problem

log = logging.getLogger("worker.http")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\s]")
#: A Content-Length: ASCII digits (``str.isdigit`` takes "³", which ``int`` refuses).
_LENGTH = re.compile(r"[0-9]{1,19}")
#: Longest path or id an access-log line repeats.
LOG_WIDTH = 200
#: Where a route leaves the message id of the command it sent, and the name of the token
#: that asked (``worker.web.auth``), for the access log.
MESSAGE_ID = "message_id"
TOKEN_NAME = "token_name"


def too_large_detail(limit: int) -> str:
    return f"the body is larger than the limit of {limit} bytes (MAX_BODY_BYTES)"


class BodyTooLarge(HTTPException):
    """Raised while reading a body that passed the limit; an HTTPException, so that FastAPI's
    own body parsing (the console's forms) lets it through, to be answered as a 413 problem
    (``worker.web.problems``) like any HTTPException."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_detail(limit))


class BodyLimit:
    """Refuses a body over ``limit`` bytes with 413 ``body_too_large``: at once when its
    Content-Length says so, else while it is read (chunked bodies have no length; the
    console's routes answer their own :class:`BodyTooLarge` as a page)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.refusal = Problem(413, "body_too_large", too_large_detail(limit)).response()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if _LENGTH.fullmatch(declared) and int(declared) > self.limit:
            # A console page's form gets the console's page; the API its problem.
            page = await console_error(scope, 413, too_large_detail(self.limit))
            await (page or self.refusal)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited_receive, send)


def printable(text: str) -> str:
    """``text`` fit for one log line: no control characters, no spaces, not too long."""
    shown = _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return shown if len(shown) <= LOG_WIDTH else f"{shown[:LOG_WIDTH]}…"


class AccessLog:
    """One line per request: method, path, status, time, the command's message id and the
    token's name. Never a header (the token is one) and never a body.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        finally:
            state = scope.get("state", {})
            extra = "".join(
                f" {name}={printable(str(state[name]))}"
                for name in (MESSAGE_ID, TOKEN_NAME)
                if state.get(name)
            )
            log.info(
                "http method=%s path=%s status=%d duration_ms=%.1f%s",
                scope["method"],
                printable(scope["path"]),
                status,
                (time.perf_counter() - started) * 1000,
                extra,
            )
