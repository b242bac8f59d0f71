"""``/health/live`` and ``/health/ready``, public, for load balancers and orchestrators."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from worker.persistence import database
from worker.web.api.openapi import problems
from worker.web.api.services import Services
from worker.web.problems import Problem

#: Seconds each dependency gets to answer: a hung one must not hang the probe.
CHECK_TIMEOUT = 2.0


async def _bounded(check: Callable[[], Awaitable[bool]]) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            return "ok" if await check() else "unreachable"
    except TimeoutError:
        return "timed out"
    except Exception:  # a probe reports; it never fails
        return "unreachable"


def health_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["health"])

    async def temporal() -> bool:
        if not services.catalog.sagas:
            return True
        return bool(await (await services.temporal()).service_client.check_health())

    checks: dict[str, Callable[[], Awaitable[bool]]] = {
        "broker": services.broker.reachable,
        "database": database.is_reachable,
        "temporal": temporal,
    }

    @router.get("/health/live", summary="200 while the process serves")
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @router.get(
        "/health/ready",
        summary="200 when the broker, the database and Temporal are reachable",
        responses=problems(503),
    )
    async def ready() -> Any:
        found = await asyncio.gather(*(_bounded(check) for check in checks.values()))
        results = dict(zip(checks, found, strict=True))
        down = [name for name, result in results.items() if result != "ok"]
        if not down:
            return JSONResponse({"status": "ready", "checks": results})
        detail = "not ready: " + ", ".join(f"{name} {results[name]}" for name in down)
        return Problem(503, "not_ready", detail, extra={"checks": results}).response()

    return router
