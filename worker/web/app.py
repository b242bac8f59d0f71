"""The front door's ASGI app: the HTTP API and the operator console, in one FastAPI app.

The caller connects the database (``database.connect``) before serving; the app's
lifespan opens and closes what only the API needs (the broker; Temporal on first use).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from worker.config import Settings
from worker.context import Contexts
from worker.web.api.commands import command_router
from worker.web.api.docs import mount_docs
from worker.web.api.health import health_router
from worker.web.api.location import Located
from worker.web.api.middleware import AccessLog, BodyLimit
from worker.web.api.openapi import install_openapi
from worker.web.api.resources import resource_router
from worker.web.api.sagas import saga_router
from worker.web.api.services import Services
from worker.web.console import mount_console
from worker.web.problems import install_problem_handlers

OPENAPI_URL = "/openapi.json"
DESCRIPTION = """Commands in, outcomes and read models out.

`POST /commands/{name}` with an `Idempotency-Key` (the message id) publishes the
command to the worker; `Prefer: wait=N` waits for its outcome. Every route but
`/health/*`, `/docs` and this document needs a bearer token
(`python -m worker tokens create NAME --scope read|write`). Errors are
`application/problem+json` with a stable `code`.
"""


class FrontDoorApp(FastAPI):
    """FastAPI, with :class:`Located` outside even Starlette's last-resort 500 handler."""

    def __init__(self, services: Services, **options: Any) -> None:
        super().__init__(**options)
        self.services = services

    def build_middleware_stack(self) -> ASGIApp:
        return Located(super().build_middleware_stack(), self.services.catalog.commands)


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


def create_app(
    settings: Settings,
    catalog: Contexts,
    *,
    stopping: asyncio.Event | None = None,
    services: Services | None = None,
) -> FastAPI:
    """The API's routes, the console's, the docs, and what wraps every request.

    ``stopping``, when given, is set as the server begins to stop: requests waiting for
    an outcome (``Prefer: wait``) then answer at once, before the server's grace ends.
    The lifespan's end does the same. ``services`` replaces the broker and Temporal
    connections (tests give fakes).
    """
    services = services or Services(settings, catalog)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.start()
        relay = asyncio.create_task(_relay(stopping, services.stopping)) if stopping else None
        try:
            yield
        finally:
            services.stopping.set()
            if relay is not None:
                relay.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relay
            await services.close()

    app = FrontDoorApp(
        services,
        title="bus-worker",
        description=DESCRIPTION,
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        # Nothing here exports OpenTelemetry: off, FastAPI skips asking for its providers
        # on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_problem_handlers(app)
    app.include_router(command_router(services))
    app.include_router(resource_router(catalog))
    app.include_router(saga_router(services))
    app.include_router(health_router(services))
    mount_docs(app, OPENAPI_URL)
    install_openapi(app, catalog.commands)
    mount_console(app, settings, catalog)
    # The last added runs first: every request is logged, the refused ones too.
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(AccessLog)
    return app
