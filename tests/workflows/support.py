"""Helpers shared by the saga tests: workers, transfers, waiting on any saga's state."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from worker.contexts.transfers.saga import TRANSFER_SAGA
from worker.sagas.starter import start_saga
from workflows.saga.types import SagaState, SagaStatus
from workflows.transfers.activities import TransferActivities
from workflows.transfers.shared import TransferInput, TransferStatus, workflow_id
from workflows.transfers.workflows import TransferSaga

Status = TypeVar("Status", bound=SagaStatus)
#: Upper bound for anything a test waits on, so a broken saga fails instead of hanging.
WAIT = 20.0


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def transfer(amount: str = "30.00", source: str = "A", destination: str = "B") -> TransferInput:
    return TransferInput(
        transfer_id=unique("t"),
        from_account_id=source,
        to_account_id=destination,
        amount=amount,
        currency="EUR",
        correlation_id=unique("corr"),
    )


def saga_worker(
    client: Client,
    task_queue: str,
    dispatcher: Any,
    **doubles: Callable[..., Any],
) -> Worker:
    """The saga with the real activities on ``dispatcher``; ``doubles`` replace some by name."""
    real = TransferActivities(dispatcher)
    activities: dict[str, Callable[..., Any]] = {
        "withdraw": real.withdraw,
        "deposit": real.deposit,
        "refund": real.refund,
        "record_outcome": real.record_outcome,
    }
    activities.update(doubles)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[TransferSaga],
        activities=list(activities.values()),
        default_heartbeat_throttle_interval=timedelta(milliseconds=100),
        max_heartbeat_throttle_interval=timedelta(milliseconds=100),
        graceful_shutdown_timeout=timedelta(seconds=2),
    )


async def start(
    client: Client, transfer_input: TransferInput, task_queue: str
) -> WorkflowHandle[TransferSaga, TransferStatus]:
    await start_saga(client, transfer_input, task_queue, saga=TRANSFER_SAGA)
    return client.get_workflow_handle_for(TransferSaga.run, workflow_id(transfer_input.transfer_id))


async def status(handle: WorkflowHandle[Any, Any]) -> SagaStatus:
    """Any saga's ``status`` query; its business key (``transfer_id``...) comes as an extra."""
    answer: SagaStatus = await handle.query("status", result_type=SagaStatus)
    return answer


async def transfer_status(handle: WorkflowHandle[Any, Any]) -> TransferStatus:
    answer: TransferStatus = await handle.query("status", result_type=TransferStatus)
    return answer


async def wait_for_state(
    handle: WorkflowHandle[Any, Any],
    state: SagaState,
    between: Callable[[], Any] | None = None,
    timeout: float = WAIT,
    unless: SagaState | None = None,
) -> SagaStatus:
    """Poll the ``status`` query until the saga is in ``state`` (or in ``unless``).

    ``between`` runs between polls: in the time-skipping environment it skips time.
    """

    async def poll() -> SagaStatus:
        while True:
            current = await status(handle)
            if current.state in (state, unless):
                return current
            if between is not None:
                await between()
            else:
                await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), timeout)


async def result(handle: WorkflowHandle[Any, Status], timeout: float = WAIT) -> Status:
    return await asyncio.wait_for(handle.result(), timeout)


async def skip_to_result(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, SagaStatus], timeout: float = WAIT
) -> SagaStatus:
    """The saga's result, skipping time while it waits.

    Awaiting ``result()`` alone does not skip the activity retry backoff on this
    test server (it waits it out in real time); ``env.sleep`` does skip it.
    """

    async def skipping() -> SagaStatus:
        outcome = asyncio.ensure_future(handle.result())
        while not outcome.done():
            await env.sleep(timedelta(seconds=1))
            await asyncio.sleep(0.01)
        return await outcome

    return await asyncio.wait_for(skipping(), timeout)


def steps(saga: SagaStatus, step: str | None = None) -> list[tuple[str, str]]:
    return [(s.step, s.status) for s in saga.steps if step is None or s.step == step]
