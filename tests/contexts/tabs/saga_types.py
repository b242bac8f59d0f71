"""The settlement saga's input, steps and status, shared by the workflow and its activities."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from workflows.saga.types import SagaStatus

WORKFLOW_NAME = "TabSettlementSaga"


class TabInput(BaseModel):
    tab_id: str
    account_id: str
    house_account_id: str
    total: str
    currency: str
    correlation_id: str | None = None


class TabStatus(SagaStatus):
    tab_id: str


class MoneyStep(BaseModel):
    account_id: str
    amount: str
    currency: str
    message_id: str
    correlation_id: str | None = None


class RefundStep(MoneyStep):
    charge_message_ids: list[str] = Field(default_factory=list)
    credit_message_ids: list[str] = Field(default_factory=list)


RefundResult = Literal["refunded", "nothing_charged", "credit_applied"]


class OutcomeStep(BaseModel):
    tab_id: str
    state: str
    reason: str = ""
    message_id: str
    correlation_id: str | None = None
