"""``GET`` routes for what each context declares it serves (``BoundedContext.resources``),
read through its own reader, with read-your-writes (``?after=<message id>``)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from worker.cli.common import shown
from worker.context import Contexts
from worker.readside.declarations import Subscription
from worker.web.api.catching_up import AFTER, WAIT, read_your_writes
from worker.web.api.idempotency import stored_id
from worker.web.api.openapi import problems
from worker.web.auth import requires
from worker.web.problems import Problem
from worker.web.resources import Resource

PARAMETER = re.compile(r"{(\w+)}")


def checked(path: Mapping[str, str]) -> dict[str, str]:
    """The path's parameters, or a 400 naming one no id can be."""
    return {name: stored_id(value, name, "invalid_path_parameter") for name, value in path.items()}


def _signature(names: list[str]) -> inspect.Signature:
    """What FastAPI reads to document (and pass) the path's parameters and the query's."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    return inspect.Signature(
        [
            inspect.Parameter(
                "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request
            ),
            *(inspect.Parameter(n, keyword, annotation=str, default=Path()) for n in names),
            inspect.Parameter("after", keyword, annotation=str | None, default=AFTER),
            inspect.Parameter("wait", keyword, annotation=float, default=WAIT),
        ]
    )


def _endpoint(resource: Resource, projection: Subscription | None) -> Any:
    names = PARAMETER.findall(resource.path)

    async def read(request: Request, after: str | None, wait: float, **path: str) -> JSONResponse:
        parameters = checked(path)  # before waiting: a bad id is a 400 at once
        await read_your_writes(after, wait, projection)
        found = await resource.read(parameters)
        if found is None:
            raise Problem(404, "not_found", f"nothing at {shown(request.url.path)}")
        return JSONResponse(jsonable_encoder(found))

    read.__signature__ = _signature(names)  # type: ignore[attr-defined]
    read.__name__ = "read_" + re.sub(r"\W+", "_", resource.path).strip("_")
    return read


def _documented(resource: Resource) -> dict[int | str, dict[str, Any]]:
    ok: dict[str, Any] = {"description": resource.summary}
    if resource.example is not None:
        ok["content"] = {"application/json": {"example": resource.example}}
    return {200: ok, **problems(400, 401, 403, 404, 503)}


def resource_router(catalog: Contexts) -> APIRouter:
    router = APIRouter(dependencies=[Depends(requires("read"))])
    for resource in catalog.resources:
        projection = catalog.subscription(resource.projection) if resource.projection else None
        router.add_api_route(
            resource.path,
            _endpoint(resource, projection),
            methods=["GET"],
            summary=resource.summary,
            tags=[resource.path.strip("/").split("/")[0]],
            responses=_documented(resource),
        )
    return router
