"""Starts a transfer's saga from its TransferRequested outbox row: never twice, never lost."""

from __future__ import annotations

import contextlib
import json

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from worker.persistence.models import OutboxRow
from worker.sagas.client import TemporalConnection
from workflows.saga.types import SAGA_STATE, SagaState
from workflows.transfers.shared import TRANSFER_ID, WORKFLOW_NAME, TransferInput, workflow_id

TRANSFER_REQUESTED = "transfers.TransferRequested"


class SagaStarter:
    """The outbox relay calls it before publishing a TransferRequested event.

    The row stays unsent until the start succeeded, so a crash or a Temporal
    outage only delays the saga. The workflow id is the transfer id and a
    second start reuses the running (or finished) saga instead of making another.
    """

    def __init__(self, temporal: TemporalConnection, task_queue: str) -> None:
        self._temporal = temporal
        self._task_queue = task_queue

    async def __call__(self, row: OutboxRow) -> None:
        body = json.loads(row.payload)
        transfer = TransferInput(
            transfer_id=body["transfer_id"],
            from_account_id=body["from_account_id"],
            to_account_id=body["to_account_id"],
            amount=body["amount"],
            currency=body["currency"],
            correlation_id=row.correlation_id,
        )
        await start_saga(await self._temporal.client(), transfer, self._task_queue)


async def start_saga(
    client: Client,
    transfer: TransferInput,
    task_queue: str,
    reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.REJECT_DUPLICATE,
) -> None:
    # A finished saga of this transfer raises WorkflowAlreadyStarted: it must not run again.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            WORKFLOW_NAME,
            transfer,
            id=workflow_id(transfer.transfer_id),
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=reuse,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SAGA_STATE, SagaState.RUNNING.value),
                    SearchAttributePair(TRANSFER_ID, transfer.transfer_id),
                ]
            ),
            static_summary=(
                f"Transfer {transfer.amount} {transfer.currency} from "
                f"{transfer.from_account_id} to {transfer.to_account_id}"
            ),
        )
