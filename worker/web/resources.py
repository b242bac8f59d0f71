"""What a bounded context serves over HTTP: read-only resources, declared beside its CLI.

Importing this module costs nothing (no web framework): a context declares its
resources in its ``BoundedContext`` and the front door builds the routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Reads one resource from the path's parameters: its JSON, or None for "no such thing".
Reader = Callable[[Mapping[str, str]], Awaitable[Any | None]]


@dataclass(frozen=True)
class Resource:
    """``GET path`` answers ``read(path parameters)``: 200 with its JSON, or 404.

    ``path`` is a route template (``/accounts/{account_id}``); its parameters are
    strings. ``projection`` names the read model the answer comes from, so that a
    read asking for its own writes (``?after=<message id>``) also waits until that
    projection has applied what the command caused.
    """

    path: str
    read: Reader
    summary: str
    projection: str | None = None
    #: An example answer, shown in the OpenAPI document.
    example: Any = None
