"""Inputs, steps and names shared by the order saga, its activities and its declaration."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from temporalio.common import SearchAttributeKey

from workflows.saga.types import SagaStatus

WORKFLOW_NAME = "OrderSaga"
ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
#: The refusal of a renewal at commit: the order's hold lapsed and the stock is gone.
RESERVATION_EXPIRED = "reservation_expired"


def workflow_id(order_id: str) -> str:
    """One saga per order, ever: the order id is the workflow's business key."""
    return f"order-{order_id}"


# A line's command has its own message id under the step's key; skus are upper case
# (SKU_PATTERN), so they never collide with the lower-case "release" and "renew".
def line_id(key: str, sku: str) -> str:
    return f"{key}/{sku}"


def release_id(key: str, sku: str) -> str:
    return f"{key}/release/{sku}"


def renew_id(key: str, sku: str) -> str:
    return f"{key}/renew/{sku}"


def return_id(key: str, sku: str) -> str:
    return f"{key}/return/{sku}"


class OrderLine(BaseModel):
    sku: str
    quantity: int


class OrderInput(BaseModel):
    order_id: str
    customer_id: str
    payment_account_id: str
    currency: str
    total: str
    lines: list[OrderLine]
    correlation_id: str | None = None


class OrderStatus(SagaStatus):
    """The order saga's status: what its ``status`` query and its result carry."""

    order_id: str


class OrderStep(BaseModel):
    """One command on the order; ``message_id`` is the step's key."""

    order_id: str
    message_id: str
    correlation_id: str | None = None


class StockStep(OrderStep):
    """A command per line, each under its own id below the step's key."""

    lines: list[OrderLine]


class ReleaseStep(StockStep):
    #: The keys of every reservation tried (``reserve_stock``, and the renewals and
    #: commits of ``commit_stock``): settled first, so that none can land after the
    #: release. A line a commit took is returned to stock rather than released.
    reserve_keys: list[str] = Field(default_factory=list)
    commit_keys: list[str] = Field(default_factory=list)


class ChargeStep(OrderStep):
    account_id: str
    amount: str
    currency: str


class RefundStep(ChargeStep):
    #: The charges tried: only one that was applied is refunded.
    charge_keys: list[str]
    #: The commits tried, per line: if one committed every line, the order did complete.
    commit_keys: list[str] = Field(default_factory=list)
    skus: list[str] = Field(default_factory=list)


RefundResult = Literal["refunded", "already_refunded", "nothing_charged", "stock_committed"]


class OrderOutcome(OrderStep):
    state: Literal["completed", "rejected", "compensated", "needs_operator", "resolved"]
    reason: str = ""
