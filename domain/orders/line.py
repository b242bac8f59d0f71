"""An order's line: units of one product at one price, a child entity of the order."""

from __future__ import annotations

from typing import Any

from domain.orders.errors import TooManyUnits
from domain.orders.pricing import PricedLine
from domain.shared.errors import InvalidValue
from domain.shared.ids import validate_sku
from domain.shared.model import Entity
from domain.shared.money import Money

MAX_UNITS_PER_LINE = 1000


def validate_units(quantity: int) -> int:
    """``quantity`` if a line may hold it: 1 to :data:`MAX_UNITS_PER_LINE` units."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidValue(f"a quantity is a whole number of at least 1, got {quantity!r}")
    if quantity > MAX_UNITS_PER_LINE:
        raise TooManyUnits(f"a line holds at most {MAX_UNITS_PER_LINE} units, got {quantity}")
    return quantity


class OrderLineItem(Entity):
    """A child entity of the order, identified by its sku: units of one product at one price.

    Until the order is placed, its discount is zero and its subtotal the gross.
    """

    def __init__(
        self,
        sku: str,
        quantity: int,
        unit_price: Money,
        discount: Money | None = None,
        subtotal: Money | None = None,
    ) -> None:
        self.id = validate_sku(sku)  # no "/": it ends the saga's per-line message ids
        if not isinstance(unit_price, Money) or unit_price.is_negative:
            raise InvalidValue(f"a unit price is Money, not negative, got {unit_price!r}")
        self.unit_price, self.quantity = unit_price, validate_units(quantity)
        gross = unit_price.times(quantity)
        self.discount = Money.zero(unit_price.currency.code) if discount is None else discount
        self.subtotal = gross - self.discount if subtotal is None else subtotal
        if self.discount + self.subtotal != gross or self.subtotal.is_negative:
            raise InvalidValue(f"line {sku}: {self.discount} off {gross} is not {self.subtotal}")

    @property
    def sku(self) -> str:
        return self.id

    def change_quantity(self, quantity: int) -> None:
        """A new quantity, not priced yet."""
        self.quantity = quantity
        self.discount = Money.zero(self.unit_price.currency.code)
        self.subtotal = self.unit_price.times(quantity)

    def apply(self, priced: PricedLine) -> None:
        self.discount, self.subtotal = priced.discount, priced.subtotal

    def as_dict(self) -> dict[str, Any]:
        """The line as :class:`OrderPlaced` carries it."""
        return {
            "sku": self.sku,
            "quantity": self.quantity,
            "unit_price": self.unit_price.to_string(),
            "discount": self.discount.to_string(),
            "subtotal": self.subtotal.to_string(),
        }
