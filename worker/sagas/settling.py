"""Where a saga's request stands, its own record read first: what ``send --wait-saga`` and
``sagas show`` report, and never a run that was not started for that record.

Tortoise must be connected: the record and this database's identity are read from it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.service import RPCError, RPCStatusCode

from worker.sagas.control import BROKEN_STATUSES, SagaSummary, describe_run
from worker.sagas.declaration import CONFLICTED, NEEDS_OPERATOR, SagaDeclaration
from worker.sagas.identity import is_ours, origin_of, read_identity
from worker.sagas.records import RecordState, record_state, requesting_event
from workflows.saga.types import SagaStatus

POLL_INTERVAL = 0.3


@dataclass(frozen=True)
class Settled:
    state: str
    reason: str = ""


@dataclass(frozen=True)
class SagaView:
    """A record and the run that has its saga's id; ``ours``: that run is the record's."""

    record: RecordState | None
    summary: SagaSummary | None
    status: SagaStatus | None
    ours: bool


async def _run_is_ours(
    saga: SagaDeclaration, business_id: str, run: WorkflowExecutionDescription
) -> bool:
    origin = await origin_of(run)
    request = await requesting_event(saga, business_id) if origin.known else None
    return is_ours(origin, await read_identity(), request)


async def view_saga(client: Client, saga: SagaDeclaration, business_id: str) -> SagaView:
    """The record of ``business_id`` and the run of its saga's id (NOT_FOUND: neither)."""
    record = await record_state(saga, business_id)
    try:
        run, summary, status = await describe_run(client, saga, business_id)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND or record is None:
            raise
        return SagaView(record, None, None, ours=False)
    conflicted = record is not None and record.conflicted
    ours = not conflicted and await _run_is_ours(saga, business_id, run)
    return SagaView(record, summary, status if ours else None, ours)


async def wait_until_settled(
    client: Client, saga: SagaDeclaration, business_id: str, seconds: float
) -> Settled | None:
    """The record's state once it ended or waits for an operator, or ``failed`` once this
    record's own run broke; ``None`` after ``seconds``."""
    settled = saga.record.ended | {NEEDS_OPERATOR, CONFLICTED}
    handle = client.get_workflow_handle(saga.workflow_id(business_id))
    ours: dict[str, bool] = {}  # by run id: deciding may read the outbox, once
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        record = await record_state(saga, business_id)
        if record is not None and record.state in settled:
            return Settled(record.state, record.reason)
        try:
            run = await handle.describe()
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            run = None  # the relay starts it right after the commit
        if run is not None and run.status in BROKEN_STATUSES:
            if run.run_id not in ours:
                ours[run.run_id] = await _run_is_ours(saga, business_id, run)
            if ours[run.run_id]:
                return Settled("failed")
        await asyncio.sleep(POLL_INTERVAL)
    return None
