"""One saga: its own record first, then its run's steps, the step it waits on and its last
error, a link to the Temporal UI; and retry, compensate or resolve, with a reason."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from worker.cli.common import CliError
from worker.ops.audit_log import list_actions
from worker.ops.saga_actions import settle
from worker.ops.saga_common import ui_link
from worker.sagas.control import SagaEnded
from worker.sagas.declaration import NEEDS_OPERATOR, SagaDeclaration
from worker.sagas.settling import view_saga
from worker.web.console.attention import briefly
from worker.web.console.forms import FormError, reason_of
from worker.web.console.gate import Refused, Visit
from worker.web.console.routing import console_router
from worker.web.console.state import Console
from workflows.saga.types import OperatorAction

ACTIONS = ("retry", "compensate", "resolve")
HISTORY = 50


def router(console: Console) -> APIRouter:
    routes = console_router(console)

    def declared(kind: str) -> SagaDeclaration:
        try:
            return console.catalog.saga(kind)
        except KeyError:
            raise Refused(404, f"no saga kind {kind!r}") from None

    async def temporal() -> Client:
        try:
            return await console.temporal()
        except Exception as error:
            where = console.settings.temporal_address
            raise Refused(503, f"Temporal at {where} cannot be reached: {briefly(error)}") from None

    def slow(what: str) -> Refused:
        where = console.settings.temporal_address
        return Refused(503, f"Temporal at {where} did not answer in time: {what}")

    def unknown(kind: str, business_id: str, error: RPCError) -> Refused | RPCError:
        if error.status == RPCStatusCode.NOT_FOUND:
            return Refused(404, f"no {kind} saga {business_id!r}")
        return error

    async def saga_page(
        request: Request, visit: Visit, kind: str, business_id: str, status: int = 200, **more: Any
    ) -> Response:
        saga, client = declared(kind), await temporal()
        try:
            view = await view_saga(client, saga, business_id)
        except RPCError as error:
            raise unknown(kind, business_id, error) from None
        except TimeoutError:
            raise slow("try again shortly") from None
        summary = view.summary if view.ours else None
        settleable = summary is not None and (
            summary.state == "failed"
            or (summary.execution == "running" and summary.state == NEEDS_OPERATOR)
        )
        return console.page(
            request,
            "saga.html",
            visit,
            status,
            saga=saga,
            business_id=business_id,
            view=view,
            summary=summary,
            actions=(("retry",) if summary and summary.state == "failed" else ACTIONS)
            if settleable
            else (),
            ui=ui_link(console.settings, saga.workflow_id(business_id)),
            history=await list_actions(limit=HISTORY, target=business_id),
            **more,
        )

    @routes.get("/sagas/{kind}/{business_id}")
    async def show(request: Request, kind: str, business_id: str) -> Response:
        return await saga_page(request, await console.gate.look(request), kind, business_id)

    @routes.post("/sagas/{kind}/{business_id}/{action}")
    async def act(request: Request, kind: str, business_id: str, action: str) -> Response:
        visit, form = await console.gate.act(request, "act")
        if action not in ACTIONS:
            raise Refused(404, f"no saga action {action!r}; choose from {', '.join(ACTIONS)}")
        saga = declared(kind)
        try:
            decision = OperatorAction(reason=reason_of(form), operator=visit.name)
        except FormError as error:
            problem = {action: error.message}
            return await saga_page(request, visit, kind, business_id, 422, errors=problem)
        except ValidationError as error:
            problem = {action: str(error.errors()[0]["msg"])}
            return await saga_page(request, visit, kind, business_id, 422, errors=problem)
        client = await temporal()
        try:
            done = await settle(console.settings, client, saga, business_id, action, decision)
        except (SagaEnded, CliError) as error:
            return await saga_page(request, visit, kind, business_id, 409, refused=str(error))
        except WorkflowUpdateFailedError as error:
            refused = f"the saga refused: {error.cause}"
            return await saga_page(request, visit, kind, business_id, 409, refused=refused)
        except RPCError as error:
            raise unknown(kind, business_id, error) from None
        except TimeoutError:
            raise slow(f"the {action} may or may not have been done: look again") from None
        return await saga_page(request, visit, kind, business_id, done=done)

    return routes
