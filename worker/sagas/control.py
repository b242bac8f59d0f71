"""Finding sagas of every declared kind and acting on them: what the ``sagas`` CLI needs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
)

from worker.sagas.declaration import SagaDeclaration
from workflows.saga.types import SAGA_STATE, OperatorAction, SagaStatus

#: ``sagas list --state failed``: the workflow itself ended badly (not a business outcome).
BROKEN = ("Failed", "Terminated", "TimedOut")
STATES = ("running", "needs_operator", "completed", "compensated", "rejected", "resolved", "failed")
BROKEN_STATUSES = {
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT,
}
#: How long the CLI waits for a saga worker to answer a query or an update.
ANSWER_TIMEOUT = 15.0


class SagaEnded(Exception):
    """The operator's action cannot apply: the saga is over, or nobody answers."""


@dataclass(frozen=True)
class SagaSummary:
    kind: str
    business_id: str
    #: The JSON key of the business id (``transfer_id``).
    id_key: str
    state: str
    execution: str
    started_at: datetime
    workflow_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.business_id,
            self.id_key: self.business_id,
            "state": self.state,
            "execution": self.execution,
            "started_at": self.started_at.isoformat(),
            "workflow_id": self.workflow_id,
        }


def summary_of(saga: SagaDeclaration, execution: WorkflowExecution) -> SagaSummary:
    attributes = execution.typed_search_attributes
    status = execution.status.name if execution.status else "UNKNOWN"
    state = attributes.get(SAGA_STATE) or "running"
    if execution.status in BROKEN_STATUSES:
        state = "failed"
    return SagaSummary(
        kind=saga.kind,
        business_id=attributes.get(saga.id_attribute) or saga.business_id_of(execution.id),
        id_key=saga.id_key,
        state=state,
        execution=status.lower(),
        started_at=execution.start_time,
        workflow_id=execution.id,
    )


def visibility_query(saga: SagaDeclaration, state: str | None) -> str:
    query = f"WorkflowType = '{saga.workflow_name}'"
    if state == "failed":
        return query + " AND ExecutionStatus IN (" + ", ".join(f"'{s}'" for s in BROKEN) + ")"
    if state is not None:
        query += f" AND {SAGA_STATE.name} = '{state}'"
    return query


async def list_sagas(
    client: Client, sagas: Sequence[SagaDeclaration], state: str | None, limit: int = 1000
) -> list[SagaSummary]:
    """The sagas of every kind in ``sagas`` (in ``state``, if given), newest first."""
    found = [
        summary_of(saga, e)
        for saga in sagas
        async for e in client.list_workflows(visibility_query(saga, state), limit=limit)
    ]
    found.sort(key=lambda s: s.started_at, reverse=True)
    return [s for s in found if state is None or s.state == state][:limit]


async def describe_run(
    client: Client, saga: SagaDeclaration, business_id: str
) -> tuple[WorkflowExecutionDescription, SagaSummary, SagaStatus | None]:
    """The latest run of the saga's id, its summary, and its status when it can answer."""
    handle = client.get_workflow_handle(saga.workflow_id(business_id), result_type=SagaStatus)
    description = await handle.describe()
    summary = summary_of(saga, description)
    if description.status == WorkflowExecutionStatus.RUNNING:
        try:
            status = await asyncio.wait_for(
                handle.query("status", result_type=SagaStatus), ANSWER_TIMEOUT
            )
        except TimeoutError:
            return description, summary, None  # no saga worker answers: that is all there is
        return description, summary, status
    if description.status == WorkflowExecutionStatus.COMPLETED:
        return description, summary, await handle.result()
    return description, summary, None


async def describe_saga(
    client: Client, saga: SagaDeclaration, business_id: str
) -> tuple[SagaSummary, SagaStatus | None]:
    """The saga's summary, and its status from the workflow itself when it can answer."""
    _, summary, status = await describe_run(client, saga, business_id)
    return summary, status


async def act(
    client: Client,
    saga: SagaDeclaration,
    business_id: str,
    action: str,
    decision: OperatorAction,
) -> SagaStatus:
    """Send ``retry``, ``compensate`` or ``resolve`` to a saga waiting for an operator."""
    handle = client.get_workflow_handle(saga.workflow_id(business_id))
    summary = summary_of(saga, await handle.describe())
    if summary.execution != "running":
        raise SagaEnded(f"the saga already ended ({summary.state}, {summary.execution})")
    try:
        status: SagaStatus = await asyncio.wait_for(
            handle.execute_update(action, decision, result_type=SagaStatus), ANSWER_TIMEOUT
        )
    except TimeoutError:
        raise SagaEnded(
            f"no saga worker answered within {ANSWER_TIMEOUT:g}s: is one running "
            "(`python -m worker run` with the sagas role)?"
        ) from None
    return status


async def is_broken(client: Client, saga: SagaDeclaration, business_id: str) -> bool:
    description = await client.get_workflow_handle(saga.workflow_id(business_id)).describe()
    return description.status in BROKEN_STATUSES
