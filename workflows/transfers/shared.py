"""Inputs, results and names shared by the transfer saga, its activities and its callers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from temporalio.common import SearchAttributeKey

from workflows.saga.types import SAGA_STATE, SagaStatus

WORKFLOW_NAME = "TransferSaga"
TRANSFER_ID = SearchAttributeKey.for_keyword("TransferId")
SEARCH_ATTRIBUTES = (SAGA_STATE, TRANSFER_ID)


def workflow_id(transfer_id: str) -> str:
    """The business key is the workflow id: one saga per transfer, ever."""
    return f"transfer-{transfer_id}"


class TransferInput(BaseModel):
    transfer_id: str
    from_account_id: str
    to_account_id: str
    amount: str
    currency: str
    correlation_id: str | None = None


class TransferStatus(SagaStatus):
    """The transfer saga's status: what its ``status`` query and its result carry."""

    transfer_id: str


class MoneyStep(BaseModel):
    """One account command, with the idempotency key derived from workflow id and step."""

    account_id: str
    amount: str
    currency: str
    message_id: str
    correlation_id: str | None = None


class RefundStep(MoneyStep):
    #: The withdrawals this refund undoes: it refunds only if one of them was applied.
    withdrawal_message_ids: list[str]
    #: The deposits tried: if one was applied after all, there is nothing to undo.
    deposit_message_ids: list[str] = Field(default_factory=list)


RefundResult = Literal["refunded", "nothing_withdrawn", "deposit_applied"]


class OutcomeStep(BaseModel):
    transfer_id: str
    state: Literal["completed", "rejected", "compensated", "needs_operator", "resolved"]
    reason: str = ""
    message_id: str
    correlation_id: str | None = None
