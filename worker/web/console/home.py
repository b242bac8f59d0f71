"""Needs attention (the home page), and one event handler's standing."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from tortoise import connections

from worker.readside.cli import standing_json
from worker.readside.progress import standing
from worker.web.console.attention import SHOWN_PER_GROUP, gather
from worker.web.console.gate import Refused
from worker.web.console.routing import console_router
from worker.web.console.state import Console


def router(console: Console) -> APIRouter:
    routes = console_router(console)

    @routes.get("")
    async def home(request: Request) -> Response:
        visit = await console.gate.look(request)
        found = await gather(console)
        return console.page(
            request, "home.html", visit, found=found, shown_per_group=SHOWN_PER_GROUP
        )

    @routes.get("/handlers/{name}")
    async def handler(request: Request, name: str) -> Response:
        visit = await console.gate.look(request)
        try:
            subscription = console.catalog.subscription(name)
        except KeyError:
            raise Refused(404, f"no event handler {name!r}") from None
        where = await standing(connections.get("default"), subscription)
        shown = standing_json(where, datetime.now(UTC))
        return console.page(
            request,
            "handler.html",
            visit,
            handler=shown,
            row=where.row,
            events=sorted(subscription.events),
        )

    return routes
