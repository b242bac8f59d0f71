"""``GET /sagas/{kind}/{id}``: a saga as ``sagas show ID --kind KIND --json`` prints it, its
own record read first (never a run another request started under the same id)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from temporalio.service import RPCError, RPCStatusCode

from domain.shared.errors import InvalidValue
from domain.shared.ids import ID_PATTERN, validate_id
from worker.cli.common import shown
from worker.ops.saga_common import ui_link
from worker.ops.sagas import view_json
from worker.sagas.settling import view_saga
from worker.web.api.catching_up import AFTER, WAIT, read_your_writes
from worker.web.api.openapi import problems
from worker.web.api.services import Services
from worker.web.auth import requires
from worker.web.problems import FieldError, Problem, unavailable


def saga_router(services: Services) -> APIRouter:
    router = APIRouter(dependencies=[Depends(requires("read"))], tags=["sagas"])
    catalog, settings = services.catalog, services.settings
    kinds = ", ".join(saga.kind for saga in catalog.sagas) or "none"

    @router.get(
        "/sagas/{kind}/{saga_id}",
        summary=f"A saga: its state, steps, waiting step and last error (kinds: {kinds})",
        responses=problems(400, 401, 403, 404, 503),
    )
    async def show_saga(
        kind: str, saga_id: str, after: str | None = AFTER, wait: float = WAIT
    ) -> Any:
        try:
            saga = catalog.saga(kind)
        except KeyError:
            detail = f"no saga kind {shown(kind)}; known: {kinds}"
            raise Problem(404, "unknown_saga_kind", detail) from None
        try:
            validate_id(saga_id, saga.kind)
        except InvalidValue:
            detail = f"{shown(saga_id)} is no {saga.kind} id (they match {ID_PATTERN})"
            field = FieldError("saga_id", "invalid_id", detail)
            raise Problem(400, "invalid_id", detail, [field]) from None
        await read_your_writes(after, wait, None)
        client = await services.temporal()
        try:
            view = await view_saga(client, saga, saga_id)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise Problem(404, "not_found", f"no {saga.kind} saga {saga_id!r}") from None
            raise unavailable(
                "temporal_unavailable", f"Temporal refused: {error.message}"
            ) from None
        return view_json(saga, saga_id, view, ui_link(settings, saga.workflow_id(saga_id)))

    return router
