"""The Temporal worker for the transfer saga, given its dependencies."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from workflows.saga.types import CommandDispatcher
from workflows.transfers.activities import TransferActivities
from workflows.transfers.workflows import TransferSaga


def build_worker(
    client: Client,
    task_queue: str,
    dispatcher: CommandDispatcher,
    graceful_shutdown: timedelta = timedelta(seconds=30),
) -> Worker:
    """A worker polling ``task_queue`` for the saga and its activities."""
    activities = TransferActivities(dispatcher)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[TransferSaga],
        activities=[
            activities.withdraw,
            activities.deposit,
            activities.refund,
            activities.record_outcome,
        ],
        # Without it, completions of activities still running at shutdown are dropped.
        graceful_shutdown_timeout=graceful_shutdown,
    )
