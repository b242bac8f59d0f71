"""Restarting a saga whose workflow failed or was terminated: a fresh run, same input."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy

from worker.sagas.control import SagaEnded
from worker.sagas.declaration import SagaDeclaration
from worker.sagas.identity import origin_of
from worker.sagas.inputs import original_input
from worker.sagas.starter import start_saga


async def restart(
    client: Client, saga: SagaDeclaration, business_id: str, task_queue: str, database: str
) -> None:
    """A fresh run of a saga whose workflow failed or was terminated, with its input and memo.

    The idempotency keys are the workflow id and the step, so steps that already
    happened are answered from the inbox. A run another database started is not
    this record's saga: restarting it would run that request here, so it is refused.
    """
    workflow_id = saga.workflow_id(business_id)
    broken = await client.get_workflow_handle(workflow_id).describe()
    origin = await origin_of(broken)
    if origin.database not in (None, database):
        raise SagaEnded(
            f"workflow {workflow_id} was started by database {origin.database}, not this one "
            f"({database}): it is not this {saga.kind}'s saga; nothing was done"
        )
    saga_input = await original_input(client, saga, workflow_id, broken.run_id)
    await start_saga(
        client,
        saga_input,
        task_queue,
        reuse=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        saga=saga,
        memo=origin if origin.known else None,
    )
