"""The audit log: who did what, when, to what and why; filtered by operator, action
(or a prefix of actions: ``dlq``) and target."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from worker.ops.audit import changes
from worker.ops.audit_log import list_actions
from worker.persistence.models import AuditRow
from worker.web.console.routing import console_router
from worker.web.console.state import Console

FILTERS = ("operator", "action", "target")
LIMITS = (50, 200, 1000)


def width(column: str) -> int:
    max_length = getattr(AuditRow._meta.fields_map[column], "max_length", None)
    return int(max_length) if max_length else 255


def router(console: Console) -> APIRouter:
    routes = console_router(console)

    @routes.get("/audit")
    async def audit(request: Request) -> Response:
        visit = await console.gate.look(request)
        query = request.query_params
        filters = {key: query.get(key, "").strip() or None for key in FILTERS}
        errors = {
            key: f"at most {width(key)} characters: an audit {key} is never longer"
            for key, value in filters.items()
            if value is not None and len(value) > width(key)
        }
        limit = int(query["limit"]) if query.get("limit") in {str(n) for n in LIMITS} else LIMITS[0]
        entries = [] if errors else await list_actions(limit=limit, **filters)
        return console.page(
            request,
            "audit.html",
            visit,
            422 if errors else 200,
            entries=[(entry, changes(entry.before, entry.after)) for entry in entries],
            filters={key: value or "" for key, value in filters.items()},
            limit=limit,
            limits=LIMITS,
            errors=errors,
        )

    return routes
