"""The transfer saga as the transfers context declares it to the framework."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from worker.sagas.declaration import SagaDeclaration
from workflows.saga.types import CommandDispatcher
from workflows.transfers.activities import TransferActivities
from workflows.transfers.workflows import TransferSaga


def _activities(dispatcher: CommandDispatcher) -> Sequence[Callable[..., Any]]:
    activities = TransferActivities(dispatcher)
    return [activities.withdraw, activities.deposit, activities.refund, activities.record_outcome]


TRANSFER_SAGA = SagaDeclaration(
    kind="transfer",
    workflow=TransferSaga,
    activities=_activities,
    started_by="transfers.TransferRequested",
)
