"""What clients may ask of orders, on ``orders.commands``; and the order saga's own commands."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, field_validator

from domain.orders.order import MAX_UNITS_PER_LINE
from domain.shared.ids import SKU_PATTERN
from worker.bus.commands import Command, EntityId

REASON_MAX_LENGTH = 500

Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]
Quantity = Annotated[int, Field(gt=0, le=MAX_UNITS_PER_LINE)]
#: Where the order saga stands, in the saga's own words.
SagaState = Literal[
    "completed", "rejected", "compensated", "needs_operator", "resolved", "conflicted"
]


class OrderCommand(Command):
    identity_fields: ClassVar[tuple[str, ...]] = ("order_id",)

    order_id: EntityId

    @property
    def aggregate_id(self) -> str:
        return self.order_id


class CreateOrder(OrderCommand):
    """Open a draft order for ``customer_id``, in the currency of the account that pays."""

    customer_id: EntityId


class LineCommand(OrderCommand):
    # A dead-letter edit may fix the quantity, never which line the message is about.
    identity_fields: ClassVar[tuple[str, ...]] = ("order_id", "sku")

    sku: Sku


class AddLineItem(LineCommand):
    """Put ``quantity`` of ``sku`` on the draft, at the catalog's current price."""

    quantity: Quantity


class UpdateLineItem(LineCommand):
    """Set the quantity of a line already on the draft."""

    quantity: Quantity


class RemoveLineItem(LineCommand):
    """Take the line of ``sku`` off the draft."""


class PlaceOrder(OrderCommand):
    """Price the draft and place it: its OrderPlaced event starts the order saga."""


class CancelOrder(OrderCommand):
    """Cancel a draft at once, or ask a placed order's saga to stop before it charges."""

    reason: Annotated[str, StringConstraints(min_length=1, max_length=REASON_MAX_LENGTH)]

    @field_validator("reason")
    @classmethod
    def _reason_is_not_blank(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("reason must not be blank")
        return reason


class StartOrderCharge(OrderCommand):
    """The saga is about to charge: from now on the order cannot be cancelled."""

    internal: ClassVar[bool] = True


class RecordOrderOutcome(OrderCommand):
    """Record where the order's saga stands. Dispatched by the saga (and by its starter,
    when the saga's id belongs to another request: ``conflicted``) only."""

    internal: ClassVar[bool] = True

    state: SagaState
    reason: str = Field("", max_length=2000)
