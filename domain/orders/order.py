"""The Order aggregate: a draft of lines in one currency, placed at priced totals, then
settled by the order saga (reserve the stock, charge the customer, commit the stock)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.orders.errors import (
    EmptyOrder,
    LineItemNotFound,
    OrderNotCancellable,
    OrderNotDraft,
    OrderWasCancelled,
    TooManyLines,
)
from domain.orders.events import (
    OrderCancellationRequested,
    OrderCancelled,
    OrderChargeStarted,
    OrderConfirmed,
    OrderConflicted,
    OrderCreated,
    OrderEvent,
    OrderItemAdded,
    OrderItemRemoved,
    OrderItemUpdated,
    OrderNeedsOperator,
    OrderPlaced,
    OrderRejected,
    OrderResolved,
)
from domain.orders.line import MAX_UNITS_PER_LINE as MAX_UNITS_PER_LINE
from domain.orders.line import OrderLineItem as OrderLineItem
from domain.orders.line import validate_units as validate_units
from domain.orders.pricing import Pricing
from domain.shared.errors import CurrencyMismatch, InvalidStateTransition, InvalidValue
from domain.shared.ids import validate_id
from domain.shared.model import TimestampedAggregate
from domain.shared.money import Currency, Money

MAX_LINES = 100


class OrderStatus(enum.StrEnum):
    DRAFT = "draft"  # lines may change
    PLACED = "placed"  # priced; the saga runs
    CONFIRMED = "confirmed"  # charged and the stock committed
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    NEEDS_OPERATOR = "needs_operator"
    RESOLVED = "resolved"  # settled by hand
    CONFLICTED = "conflicted"  # its saga id was taken by another request's run


ENDED = frozenset(
    {
        OrderStatus.CONFIRMED,
        OrderStatus.REJECTED,
        OrderStatus.CANCELLED,
        OrderStatus.RESOLVED,
        OrderStatus.CONFLICTED,
    }
)
#: The saga's end states that map to one order status; its ``rejected`` and
#: ``compensated`` end the order cancelled or rejected, see :meth:`Order.end`.
SAGA_OUTCOMES = {
    "completed": OrderStatus.CONFIRMED,
    "needs_operator": OrderStatus.NEEDS_OPERATOR,
    "resolved": OrderStatus.RESOLVED,
    "conflicted": OrderStatus.CONFLICTED,
}
_STOPPED_BY_SAGA = {"rejected", "compensated"}
_REASONED_EVENTS: dict[OrderStatus, type[OrderEvent]] = {
    OrderStatus.NEEDS_OPERATOR: OrderNeedsOperator,
    OrderStatus.RESOLVED: OrderResolved,
    OrderStatus.CONFLICTED: OrderConflicted,
}


class Order(TimestampedAggregate):
    """A customer's order. Every state change records exactly one event."""

    def __init__(
        self,
        id: str,
        customer_id: str,
        payment_account_id: str,
        currency: str,
        status: OrderStatus = OrderStatus.DRAFT,
        lines: Sequence[OrderLineItem] = (),
        total: Money | None = None,
        reason: str = "",
        charging: bool = False,
        cancel_requested: bool = False,
        version: int = 0,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> None:
        super().__init__(validate_id("order", id), version, created_at, updated_at)
        self.customer_id = validate_id("customer", customer_id)
        self.payment_account_id = validate_id("account", payment_account_id)
        self.currency = Currency(currency).code
        self.status = OrderStatus(status)
        self._lines = {line.sku: line for line in lines}  # a dict keeps insertion order
        if len(self._lines) != len(lines):
            raise InvalidValue(f"order {id} lists a sku twice")
        for line in lines:
            self._require_unit_price(line.unit_price)
        self.total, self.reason = total, reason
        self.charging, self.cancel_requested = charging, cancel_requested

    @classmethod
    def create(cls, id: str, customer_id: str, payment_account_id: str, currency: str) -> Order:
        order = cls(id, customer_id, payment_account_id, currency)
        order._record(
            OrderCreated,
            customer_id=customer_id,
            payment_account_id=payment_account_id,
            currency=order.currency,
        )
        return order

    @property
    def lines(self) -> tuple[OrderLineItem, ...]:
        """The lines in the order they were first added."""
        return tuple(self._lines.values())

    @property
    def is_ended(self) -> bool:
        return self.status in ENDED

    def add_line(self, sku: str, quantity: int, unit_price: Money) -> None:
        """Add ``quantity`` units; a sku already on the order adds to its line, at its price."""
        self._require_draft()
        validate_units(quantity)
        self._require_unit_price(unit_price)
        line = self._lines.get(sku)
        if line is not None:
            line.change_quantity(validate_units(line.quantity + quantity))
        elif len(self._lines) >= MAX_LINES:
            raise TooManyLines(f"an order holds at most {MAX_LINES} lines")
        else:
            line = self._lines[sku] = OrderLineItem(sku, quantity, unit_price)
        self._record(
            OrderItemAdded,
            sku=sku,
            quantity=quantity,
            line_quantity=line.quantity,
            unit_price=line.unit_price.to_string(),
            currency=self.currency,
        )

    def update_line(self, sku: str, quantity: int) -> None:
        """Set the line's quantity (remove a line with :meth:`remove_line`)."""
        self._require_draft()
        self._line(sku).change_quantity(validate_units(quantity))
        self._record(OrderItemUpdated, sku=sku, quantity=quantity)

    def remove_line(self, sku: str) -> None:
        self._require_draft()
        del self._lines[self._line(sku).sku]
        self._record(OrderItemRemoved, sku=sku)

    def place(self, pricing: Pricing) -> None:
        """Price every line and the total; the order can then no longer change (its saga starts)."""
        self._require_draft()
        if not self._lines:
            raise EmptyOrder(f"order {self.id} has no lines")
        priced = [pricing.price_line(line.unit_price, line.quantity) for line in self.lines]
        for line, prices in zip(self.lines, priced, strict=True):
            line.apply(prices)
        self.total, self.status = pricing.total(priced), OrderStatus.PLACED
        self._record(
            OrderPlaced,
            customer_id=self.customer_id,
            payment_account_id=self.payment_account_id,
            currency=self.currency,
            total=self.total.to_string(),
            lines=[line.as_dict() for line in self.lines],
        )

    def cancel(self, reason: str) -> None:
        """A draft ends at once; a placed order asks its saga to stop, if it has not charged yet."""
        if self.status is OrderStatus.DRAFT:
            self.status, self.reason = OrderStatus.CANCELLED, reason
            self._record(OrderCancelled, customer_id=self.customer_id, reason=reason)
        elif self.status is OrderStatus.PLACED and not (self.charging or self.cancel_requested):
            self.cancel_requested, self.reason = True, reason
            self._record(OrderCancellationRequested, reason=reason)
        else:
            requested = ", its cancellation requested" if self.cancel_requested else ""
            charging = ", charging" if self.charging else ""
            raise OrderNotCancellable(f"order {self.id} is {self.status}{charging}{requested}")

    def start_charge(self) -> None:
        """The saga's mark right before charging: past it, a cancellation is refused."""
        if self.status is not OrderStatus.PLACED:
            raise InvalidStateTransition(f"order {self.id} is {self.status}, not placed")
        if self.cancel_requested:
            raise OrderWasCancelled(f"order {self.id} was cancelled: {self.reason}")
        if self.charging:
            return  # the mark is set already
        self.charging = True
        self._record(OrderChargeStarted)

    def end(self, state: str, reason: str) -> None:
        """Record how the order saga stands (``state`` is one of the saga's states)."""
        target = self._status_after(state)
        if self.status is target and (self.is_ended or self.reason == reason):
            return  # the same news twice changes nothing
        if self.status not in (OrderStatus.PLACED, OrderStatus.NEEDS_OPERATOR):
            raise InvalidStateTransition(f"order {self.id} is {self.status}: cannot end {state}")
        if target is not OrderStatus.CANCELLED:  # a cancellation keeps the customer's reason
            self.reason = reason
        self.status = target
        if target is OrderStatus.CONFIRMED:
            assert self.total is not None  # a placed order is priced
            total = self.total.to_string()
            self._record(
                OrderConfirmed, customer_id=self.customer_id, currency=self.currency, total=total
            )
        elif target in (OrderStatus.REJECTED, OrderStatus.CANCELLED):
            stopped = OrderRejected if target is OrderStatus.REJECTED else OrderCancelled
            self._record(stopped, customer_id=self.customer_id, reason=self.reason)
        else:
            self._record(_REASONED_EVENTS[target], reason=reason)

    def _status_after(self, state: str) -> OrderStatus:
        if state in _STOPPED_BY_SAGA:
            return OrderStatus.CANCELLED if self.cancel_requested else OrderStatus.REJECTED
        if state not in SAGA_OUTCOMES:
            raise InvalidValue(f"{state!r} is not a state the order saga ends in")
        return SAGA_OUTCOMES[state]

    def _line(self, sku: str) -> OrderLineItem:
        line = self._lines.get(sku)
        if line is None:
            raise LineItemNotFound("line item not found")
        return line

    def _require_draft(self) -> None:
        if self.status is not OrderStatus.DRAFT:
            raise OrderNotDraft(f"order {self.id} is {self.status}: its lines can no longer change")

    def _require_unit_price(self, unit_price: Money) -> None:
        if not isinstance(unit_price, Money) or unit_price.is_negative:
            raise InvalidValue(f"a unit price is Money, not negative, got {unit_price!r}")
        if unit_price.currency.code != self.currency:
            raise CurrencyMismatch(
                f"order {self.id} is in {self.currency}, not {unit_price.currency}"
            )

    def _record(self, event: type[OrderEvent], **fields: Any) -> None:
        self.record(event(aggregate_id=self.id, aggregate_version=self.next_version, **fields))
