"""``Location: /commands/{key}`` on every answer to ``POST /commands/...`` whose
``Idempotency-Key`` can be a message id, whoever answers: the route, the body limit,
a database error's 503, or the last-resort 500 (which is why it wraps the whole app)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from worker.bus.registry import CommandRegistry
from worker.web.api.idempotency import idempotency_key
from worker.web.api.middleware import MESSAGE_ID
from worker.web.problems import Problem

PREFIX = "/commands/"


def location(key: str) -> str:
    return f"{PREFIX}{quote(key, safe='')}"


class Located:
    """Adds the key's ``Location`` to the start of the answer, replacing any other."""

    def __init__(self, app: ASGIApp, commands: CommandRegistry) -> None:
        self.app = app
        self.commands = commands

    def _key(self, scope: Scope) -> str | None:
        # The route leaves the key it read (for the access log); else it is read here.
        known = scope.get("state", {}).get(MESSAGE_ID)
        if known is not None:
            return str(known)
        try:
            return idempotency_key(Headers(scope=scope), self.commands)
        except Problem:
            return None  # the answer says what is wrong with the key; there is no resource

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith(PREFIX)
        ):
            await self.app(scope, receive, send)
            return

        async def located(message: Message) -> None:
            key = self._key(scope) if message["type"] == "http.response.start" else None
            if key is not None:
                others = [h for h in message.get("headers", ()) if h[0].lower() != b"location"]
                header = (b"location", location(key).encode("ascii"))
                message = {**message, "headers": [*others, header]}
            await send(message)

        await self.app(scope, receive, located)
