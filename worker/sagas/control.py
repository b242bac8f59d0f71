"""Finding sagas and acting on them: what the operations CLI needs from Temporal."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from worker.sagas.starter import start_saga
from workflows.saga.types import SAGA_STATE, OperatorAction, SagaStatus
from workflows.transfers.shared import TRANSFER_ID, WORKFLOW_NAME, TransferInput, workflow_id

#: ``sagas list --state failed``: the workflow itself ended badly (not a business outcome).
BROKEN = ("Failed", "Terminated", "TimedOut")
STATES = ("running", "needs_operator", "completed", "compensated", "rejected", "resolved", "failed")
WAITING_FOR_OPERATOR = "needs_operator"
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
    transfer_id: str
    state: str
    execution: str
    started_at: datetime
    workflow_id: str

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "started_at": self.started_at.isoformat()}


def _summary(execution: WorkflowExecution) -> SagaSummary:
    attributes = execution.typed_search_attributes
    status = execution.status.name if execution.status else "UNKNOWN"
    state = attributes.get(SAGA_STATE) or "running"
    if execution.status in BROKEN_STATUSES:
        state = "failed"
    return SagaSummary(
        transfer_id=attributes.get(TRANSFER_ID) or execution.id.removeprefix("transfer-"),
        state=state,
        execution=status.lower(),
        started_at=execution.start_time,
        workflow_id=execution.id,
    )


def visibility_query(state: str | None) -> str:
    query = f"WorkflowType = '{WORKFLOW_NAME}'"
    if state == "failed":
        return query + " AND ExecutionStatus IN (" + ", ".join(f"'{s}'" for s in BROKEN) + ")"
    if state is not None:
        query += f" AND {SAGA_STATE.name} = '{state}'"
    return query


async def list_sagas(client: Client, state: str | None, limit: int = 1000) -> list[SagaSummary]:
    found = [_summary(e) async for e in client.list_workflows(visibility_query(state), limit=limit)]
    return [s for s in found if state is None or s.state == state]


async def describe_saga(client: Client, transfer_id: str) -> tuple[SagaSummary, SagaStatus | None]:
    """The saga's summary, and its status from the workflow itself when it can answer."""
    handle = client.get_workflow_handle(workflow_id(transfer_id), result_type=SagaStatus)
    description = await handle.describe()
    summary = _summary(description)
    if description.status == WorkflowExecutionStatus.RUNNING:
        try:
            status = await asyncio.wait_for(
                handle.query("status", result_type=SagaStatus), ANSWER_TIMEOUT
            )
        except TimeoutError:
            return summary, None  # no saga worker answers: the summary is all there is
        return summary, status
    if description.status == WorkflowExecutionStatus.COMPLETED:
        return summary, await handle.result()
    return summary, None


async def act(
    client: Client, transfer_id: str, action: str, decision: OperatorAction
) -> SagaStatus:
    """Send ``retry``, ``compensate`` or ``resolve`` to a saga waiting for an operator."""
    handle = client.get_workflow_handle(workflow_id(transfer_id))
    summary = _summary(await handle.describe())
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


async def is_broken(client: Client, transfer_id: str) -> bool:
    description = await client.get_workflow_handle(workflow_id(transfer_id)).describe()
    return description.status in BROKEN_STATUSES


async def original_input(client: Client, transfer_id: str) -> TransferInput:
    """The input the saga was started with, read from its history (correlation id included)."""
    history = await client.get_workflow_handle(workflow_id(transfer_id)).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [transfer] = await client.data_converter.decode(started.input.payloads, [TransferInput])
    assert isinstance(transfer, TransferInput)
    return transfer


async def restart(client: Client, transfer: TransferInput, task_queue: str) -> None:
    """A fresh run of a saga whose workflow failed or was terminated.

    The idempotency keys are the workflow id and the step, so steps that already
    happened are answered from the inbox instead of running again.
    """
    await start_saga(
        client, transfer, task_queue, reuse=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
    )


SETTLED = {"completed", "rejected", "compensated", "resolved", WAITING_FOR_OPERATOR, "failed"}


async def wait_until_settled(client: Client, transfer_id: str, seconds: float) -> str | None:
    """The saga's state once it ended or waits for an operator; ``None`` after ``seconds``."""
    handle = client.get_workflow_handle(workflow_id(transfer_id))
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        try:
            state = _summary(await handle.describe()).state
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            state = "not started"  # the relay starts it right after the commit
        if state in SETTLED:
            return state
        await asyncio.sleep(0.3)
    return None
