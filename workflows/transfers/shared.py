"""Inputs, results and names shared by the transfer saga, its activities and its callers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field
from temporalio.common import SearchAttributeKey

WORKFLOW_NAME = "TransferSaga"
SAGA_STATE = SearchAttributeKey.for_keyword("SagaState")
TRANSFER_ID = SearchAttributeKey.for_keyword("TransferId")
SEARCH_ATTRIBUTES = (SAGA_STATE, TRANSFER_ID)


def workflow_id(transfer_id: str) -> str:
    """The business key is the workflow id: one saga per transfer, ever."""
    return f"transfer-{transfer_id}"


class SagaState(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    REJECTED = "rejected"
    COMPENSATED = "compensated"
    NEEDS_OPERATOR = "needs_operator"
    RESOLVED = "resolved"


class TransferInput(BaseModel):
    transfer_id: str
    from_account_id: str
    to_account_id: str
    amount: str
    currency: str
    correlation_id: str | None = None


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


class OperatorAction(BaseModel):
    """What an operator asks of a saga that waits for one; recorded in its history."""

    reason: str = Field(min_length=1, max_length=2000)
    operator: str = Field(min_length=1, max_length=200)


class StepRecord(BaseModel):
    step: str
    status: Literal["started", "succeeded", "refused", "failed", "cancelled", "skipped", "operator"]
    attempt: int = 1
    detail: str = ""
    at: datetime


class SagaStatus(BaseModel):
    """What the ``status`` query returns, and the workflow's result."""

    transfer_id: str
    state: SagaState
    waiting_step: str | None = None
    last_error: str | None = None
    steps: list[StepRecord] = Field(default_factory=list)


class DispatchResult(BaseModel):
    status: Literal["accepted", "rejected", "invalid"]
    error_code: str | None = None
    error_message: str | None = None


class CommandDispatcher(Protocol):
    """The port the activities need: the worker's message bus, in-process."""

    async def dispatch(
        self, command: str, fields: dict[str, str], message_id: str, correlation_id: str | None
    ) -> DispatchResult:
        """Handle one command exactly once per ``message_id`` and say how it went."""
        ...

    async def settle(self, message_ids: list[str]) -> dict[str, str]:
        """The recorded status of each id ("accepted", "rejected").

        An id with no outcome yet is recorded now as rejected (superseded), so an
        attempt still in flight somewhere can no longer apply after this answer.
        """
        ...

    async def recorded_with_prefix(self, prefix: str) -> dict[str, str]:
        """The recorded status of every message id that starts with ``prefix``."""
        ...
