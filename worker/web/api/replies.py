"""Requests waiting for the worker's reply to their command, by correlation id."""

from __future__ import annotations

import asyncio
from typing import Any

Reply = dict[str, Any]


class Waiters:
    """The futures of the requests waiting for each message id's reply."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Future[Reply]]] = {}

    def expect(self, message_id: str) -> asyncio.Future[Reply]:
        """A future the reply to ``message_id`` resolves; :meth:`forget` it when done."""
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(message_id, set()).add(future)
        return future

    def forget(self, message_id: str, future: asyncio.Future[Reply]) -> None:
        futures = self._waiting.get(message_id, set())
        futures.discard(future)
        if not futures:
            self._waiting.pop(message_id, None)

    def resolve(self, message_id: str, reply: Reply) -> None:
        for future in list(self._waiting.get(message_id, ())):
            if not future.done():
                future.set_result(reply)
