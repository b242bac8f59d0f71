"""A run's start input, read back from its history."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio.client import Client

from worker.sagas.declaration import SagaDeclaration


async def original_input(
    client: Client, saga: SagaDeclaration, workflow_id: str, run_id: str | None = None
) -> BaseModel:
    """The input ``workflow_id`` (that run, else its latest) was started with, correlation
    id included."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [saga_input] = await client.data_converter.decode(started.input.payloads, [saga.input_type])
    if not isinstance(saga_input, saga.input_type):
        raise TypeError(f"{workflow_id} was started with a {type(saga_input).__name__}")
    return saga_input
