"""The Product aggregate: a price, stock on hand, and the reservations orders hold on it.

Reserved stock is what unexpired reservations hold; an expired reservation simply
stops counting, and is removed when its order's reservation is next touched.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from domain.catalog.errors import OutOfStock, ProductIsDiscontinued, ReservationExpired
from domain.catalog.events import (
    CatalogEvent,
    ProductAdded,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductRestocked,
    StockCommitted,
    StockReleased,
    StockReserved,
    StockReturned,
)
from domain.catalog.stock import (
    MAX_QUANTITY,
    NO_RESERVATIONS,
    Reservation,
    aware,
    validate_quantity,
)
from domain.shared.errors import CurrencyMismatch, InvalidValue
from domain.shared.ids import SKU_PATTERN, validate_id, validate_sku
from domain.shared.model import TimestampedAggregate
from domain.shared.money import Currency, Money

__all__ = [
    "MAX_QUANTITY",
    "NAME_MAX_LENGTH",
    "SKU_PATTERN",
    "Product",
    "ProductStatus",
    "Reservation",
    "validate_quantity",
    "validate_sku",
]

NAME_MAX_LENGTH = 200


class ProductStatus(enum.StrEnum):
    ACTIVE = "active"
    DISCONTINUED = "discontinued"


class Product(TimestampedAggregate):
    """A product, identified by its sku. Every state change records exactly one event."""

    def __init__(
        self,
        sku: str,
        name: str,
        price: Money,
        status: ProductStatus = ProductStatus.ACTIVE,
        on_hand: int = 0,
        reservations: Mapping[str, Reservation] = NO_RESERVATIONS,
        version: int = 0,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> None:
        super().__init__(validate_sku(sku), version, created_at, updated_at)
        if not 1 <= len(name) <= NAME_MAX_LENGTH or not name.strip():
            raise InvalidValue(f"a product name is 1 to {NAME_MAX_LENGTH} characters")
        self.name = name
        self.price = _positive(price)
        self.status = ProductStatus(status)
        if isinstance(on_hand, bool) or not isinstance(on_hand, int) or on_hand < 0:
            raise InvalidValue(f"product {sku} cannot hold {on_hand!r} units")
        self.on_hand = on_hand
        if any(key != held.order_id for key, held in reservations.items()):
            raise InvalidValue("reservations are keyed by their order id")
        self._reservations = dict(reservations)

    @property
    def sku(self) -> str:
        return self.id

    @property
    def currency(self) -> Currency:
        return self.price.currency

    @property
    def reservations(self) -> Mapping[str, Reservation]:
        """Every reservation stored, expired ones included."""
        return MappingProxyType(self._reservations)

    def held_by(self, order_id: str, now: datetime) -> Reservation | None:
        """The order's unexpired reservation, if it has one."""
        held = self._reservations.get(order_id)
        return None if held is None or held.expired(now) else held

    def reserved(self, now: datetime) -> int:
        return sum(r.quantity for r in self._reservations.values() if not r.expired(now))

    def available(self, now: datetime) -> int:
        return self.on_hand - self.reserved(now)

    @classmethod
    def add(cls, sku: str, name: str, price: Money, stock: int = 0) -> Product:
        product = cls(sku, name, price, on_hand=validate_quantity(stock, at_least=0))
        product._record(
            ProductAdded,
            product_name=name,
            price=price.to_string(),
            currency=str(price.currency),
            on_hand=stock,
        )
        return product

    def restock(self, quantity: int) -> None:
        self.on_hand += validate_quantity(quantity)
        self._record(ProductRestocked, quantity=quantity, on_hand=self.on_hand)

    def change_price(self, price: Money) -> None:
        if price.currency != self.currency:
            raise CurrencyMismatch(f"product {self.sku} is priced in {self.currency}, not {price}")
        previous, self.price = self.price, _positive(price)
        self._record(
            ProductPriceChanged,
            price=price.to_string(),
            currency=str(price.currency),
            previous_price=previous.to_string(),
        )

    def discontinue(self) -> None:
        self._require_active()
        self.status = ProductStatus.DISCONTINUED
        self._record(ProductDiscontinued)

    def reserve(self, order_id: str, quantity: int, now: datetime, hold: timedelta) -> None:
        """Hold ``quantity`` units for the order until ``now + hold``, all or none; this
        replaces the order's own reservation, whose units count as available to it.

        A discontinued product takes no new reservation, but still renews an order's
        live one for no more units than it holds: that order was promised them.
        """
        validate_quantity(quantity)
        if hold <= timedelta(0):
            raise InvalidValue(f"a reservation is held for some time, not {hold}")
        own = self.held_by(order_id, aware(now))
        if own is None or quantity > own.quantity:
            self._require_active()
        free = self.available(now) + (own.quantity if own else 0)
        if quantity > free:
            raise OutOfStock(f"product {self.sku} has {free} units free, {quantity} asked")
        held = Reservation(order_id, quantity, now + hold)
        self._reservations[order_id] = held
        self._record(
            StockReserved,
            now,
            order_id=order_id,
            quantity=quantity,
            expires_at=held.expires_at.isoformat(),
            on_hand=self.on_hand,
            reserved=self.reserved(now),
        )

    def release(self, order_id: str, now: datetime) -> None:
        """Give the order's reservation back; an order holding none changes nothing."""
        aware(now)
        held = self._reservations.pop(order_id, None)
        if held is None:
            return
        reason = "expired" if held.expired(now) else "released"
        self._record(
            StockReleased,
            now,
            order_id=order_id,
            quantity=held.quantity,
            reason=reason,
            reserved=self.reserved(now),
        )

    def commit(self, order_id: str, quantity: int, now: datetime) -> None:
        """Take the order's units out of stock: its live reservation's, or else, while the
        product is active, ``quantity`` units straight from what is free."""
        validate_quantity(quantity)
        held = self.held_by(order_id, aware(now))
        if held is not None:
            quantity = held.quantity
        elif self.status is not ProductStatus.ACTIVE or self.available(now) < quantity:
            raise ReservationExpired(
                f"order {order_id} holds no live reservation of {self.sku}, and "
                f"{max(self.available(now), 0)} units are free for {quantity} asked"
            )
        self._reservations.pop(order_id, None)
        self.on_hand -= quantity
        self._record(
            StockCommitted,
            now,
            order_id=order_id,
            quantity=quantity,
            on_hand=self.on_hand,
            reserved=self.reserved(now),
        )

    def return_committed(self, order_id: str, quantity: int) -> None:
        """Put back on hand ``quantity`` units the order had committed: its saga undoing
        the order. Whether the order did commit them is the saga's to know (it asks once
        per commit accepted, under its own message id)."""
        validate_id("order", order_id)
        self.on_hand += validate_quantity(quantity)
        self._record(StockReturned, order_id=order_id, quantity=quantity, on_hand=self.on_hand)

    def _require_active(self) -> None:
        if self.status is ProductStatus.DISCONTINUED:
            raise ProductIsDiscontinued(f"product {self.sku} is discontinued")

    def _record(
        self, event: type[CatalogEvent], occurred_at: datetime | None = None, **fields: Any
    ) -> None:
        if occurred_at is not None:  # the time the rule was judged at, not the clock's
            fields["occurred_at"] = occurred_at
        self.record(event(aggregate_id=self.id, aggregate_version=self.next_version, **fields))


def _positive(price: Money) -> Money:
    if not price.is_positive:
        raise InvalidValue(f"a price is positive, got {price}")
    return price
