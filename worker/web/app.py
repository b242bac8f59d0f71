"""The front door's ASGI app: the HTTP API and the operator console, in one FastAPI app.

The caller connects the database (``database.connect``) before serving; the app's
lifespan opens and closes what only the API needs (the broker; Temporal on first use).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from worker.config import Settings
from worker.context import Contexts
from worker.web.api.commands import command_router
from worker.web.api.docs import mount_docs
from worker.web.api.health import health_router
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


def create_app(settings: Settings, catalog: Contexts) -> FastAPI:
    """The API's routes, the console's, the docs, and what wraps every request."""
    services = Services(settings, catalog)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.start()
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(
        title="bus-worker",
        description=DESCRIPTION,
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
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
