"""The transfer saga as the transfers context declares it to the framework."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from domain.transfers.transfer import FINAL_STATES, TransferState
from worker.contexts.transfers.commands import RecordTransferOutcome, TransferMoney
from worker.sagas.declaration import SagaDeclaration, SagaRecord
from workflows.saga.types import CommandDispatcher
from workflows.transfers.activities import TransferActivities
from workflows.transfers.shared import TRANSFER_ID, WORKFLOW_NAME, TransferInput
from workflows.transfers.workflows import TransferSaga


def _activities(dispatcher: CommandDispatcher) -> Sequence[Callable[..., Any]]:
    activities = TransferActivities(dispatcher)
    return [activities.withdraw, activities.deposit, activities.refund, activities.record_outcome]


def _input(requested: Mapping[str, Any], correlation_id: str | None) -> TransferInput:
    """From a TransferRequested event's payload."""
    return TransferInput(
        transfer_id=requested["transfer_id"],
        from_account_id=requested["from_account_id"],
        to_account_id=requested["to_account_id"],
        amount=requested["amount"],
        currency=requested["currency"],
        correlation_id=correlation_id,
    )


def _business_id(transfer: TransferInput) -> str:
    return transfer.transfer_id


def _summary(transfer: TransferInput) -> str:
    return (
        f"Transfer {transfer.amount} {transfer.currency} from "
        f"{transfer.from_account_id} to {transfer.to_account_id}"
    )


def _conflicted(transfer_id: str, reason: str) -> tuple[str, dict[str, str]]:
    fields = {"transfer_id": transfer_id, "state": TransferState.CONFLICTED.value}
    return RecordTransferOutcome.name(), {**fields, "reason": reason}


TRANSFER_SAGA = SagaDeclaration(
    kind="transfer",
    workflow=TransferSaga,
    workflow_name=WORKFLOW_NAME,
    activities=_activities,
    started_by="transfers.TransferRequested",
    input_type=TransferInput,
    start_input=_input,
    business_id=_business_id,
    summary=_summary,
    id_attribute=TRANSFER_ID,
    record=SagaRecord(table="transfers", ended=frozenset(s.value for s in FINAL_STATES)),
    conflict_command=_conflicted,
    requested_by=(TransferMoney,),
)
