"""What happens to orders, in the past tense. Published as ``orders.<EventName>``.

Amounts are decimal strings with the currency's minor-unit digits, quantities ints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from domain.shared.model import DomainEvent


@dataclass(frozen=True, kw_only=True)
class OrderEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "orders"
    published_as: ClassVar[Mapping[str, str]] = {"aggregate_id": "order_id"}


@dataclass(frozen=True, kw_only=True)
class OrderCreated(OrderEvent):
    customer_id: str
    payment_account_id: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class OrderItemAdded(OrderEvent):
    """``quantity`` units added; the line now holds ``line_quantity`` at ``unit_price``."""

    sku: str
    quantity: int
    line_quantity: int
    unit_price: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class OrderItemUpdated(OrderEvent):
    sku: str
    quantity: int


@dataclass(frozen=True, kw_only=True)
class OrderItemRemoved(OrderEvent):
    sku: str


@dataclass(frozen=True, kw_only=True)
class OrderPlaced(OrderEvent):
    """Starts the order saga: everything it needs is here, the lines priced."""

    customer_id: str
    payment_account_id: str
    currency: str
    total: str
    lines: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class OrderCancellationRequested(OrderEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderChargeStarted(OrderEvent):
    """The saga is about to charge: from here on the order can no longer be cancelled."""


@dataclass(frozen=True, kw_only=True)
class OrderConfirmed(OrderEvent):
    customer_id: str
    currency: str
    total: str


@dataclass(frozen=True, kw_only=True)
class OrderRejected(OrderEvent):
    customer_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderEvent):
    customer_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderNeedsOperator(OrderEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderResolved(OrderEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderConflicted(OrderEvent):
    """Its saga's id was taken by another request's run; the reason names that run."""

    reason: str
