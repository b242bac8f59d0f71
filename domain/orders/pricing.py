"""Pricing, the orders' domain service: volume discounts on a line, and an order's total.

A line of many units earns a discount on its gross (unit price times quantity): the highest
tier the quantity reaches applies, rounded half-even to the currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from domain.shared.errors import InvalidValue
from domain.shared.model import ValueObject
from domain.shared.money import Money


@dataclass(frozen=True)
class DiscountTier(ValueObject):
    """``percent`` off a line of at least ``min_quantity`` units."""

    min_quantity: int
    percent: Decimal

    def validate(self) -> None:
        if isinstance(self.min_quantity, bool) or not isinstance(self.min_quantity, int):
            raise InvalidValue(f"a tier's minimum is a whole number, got {self.min_quantity!r}")
        if self.min_quantity < 1:
            raise InvalidValue(f"a tier starts at 1 unit or more, got {self.min_quantity}")
        if not isinstance(self.percent, Decimal) or not 0 <= self.percent <= 100:
            raise InvalidValue(f"a tier's percent is a Decimal 0..100, got {self.percent!r}")


#: The one place the volume discounts are declared.
TIERS = (DiscountTier(50, Decimal(10)), DiscountTier(10, Decimal(5)))


@dataclass(frozen=True)
class PricedLine(ValueObject):
    """What pricing made of a line: its discount and what remains to pay for it."""

    discount: Money
    subtotal: Money


class Subtotalled(Protocol):
    """Anything with a subtotal: a :class:`PricedLine`, an order's line item."""

    @property
    def subtotal(self) -> Money: ...


class Pricing:
    """Prices lines with ``tiers`` (by default :data:`TIERS`)."""

    def __init__(self, tiers: Sequence[DiscountTier] = TIERS) -> None:
        minimums = [tier.min_quantity for tier in tiers]
        if len(set(minimums)) != len(minimums):
            raise InvalidValue(f"two tiers start at the same quantity: {minimums}")
        self.tiers = tuple(sorted(tiers, key=lambda tier: tier.min_quantity, reverse=True))

    def percent_for(self, quantity: int) -> Decimal:
        """The discount rate of the highest tier ``quantity`` reaches (0 below every tier)."""
        reached = (tier.percent for tier in self.tiers if tier.min_quantity <= quantity)
        return next(reached, Decimal(0))

    def price_line(self, unit_price: Money, quantity: int) -> PricedLine:
        """The discount and subtotal of ``quantity`` units at ``unit_price``."""
        if not isinstance(unit_price, Money):
            raise InvalidValue(f"a unit price is Money, got {unit_price!r}")
        if unit_price.is_negative:
            raise InvalidValue(f"a unit price cannot be negative, got {unit_price}")
        gross = unit_price.times(quantity)  # refuses anything but an int
        if quantity < 1:
            raise InvalidValue(f"a line holds at least 1 unit, got {quantity}")
        discount = gross.percent(self.percent_for(quantity))
        return PricedLine(discount=discount, subtotal=gross - discount)

    def total(self, lines: Iterable[Subtotalled]) -> Money:
        """The sum of the lines' subtotals; there must be at least one (it gives the currency)."""
        subtotals = [line.subtotal for line in lines]
        if not subtotals:
            raise InvalidValue("there are no lines to total")
        return Money.total(subtotals, str(subtotals[0].currency))
