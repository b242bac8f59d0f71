"""What happens to products, in the past tense. Published as ``catalog.<EventName>``.

Amounts are decimal strings, quantities ints, times ISO-8601 strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from domain.shared.model import DomainEvent


@dataclass(frozen=True, kw_only=True)
class CatalogEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "catalog"
    published_as: ClassVar[Mapping[str, str]] = {"aggregate_id": "sku"}


@dataclass(frozen=True, kw_only=True)
class ProductAdded(CatalogEvent):
    """Its payload names the product ``name``; the attribute is ``product_name`` because
    one called ``name`` would hide DomainEvent.name() on the instance."""

    product_name: str
    price: str
    currency: str
    on_hand: int

    published_as = {**CatalogEvent.published_as, "product_name": "name"}


@dataclass(frozen=True, kw_only=True)
class ProductRestocked(CatalogEvent):
    quantity: int
    on_hand: int


@dataclass(frozen=True, kw_only=True)
class ProductPriceChanged(CatalogEvent):
    price: str
    currency: str
    previous_price: str


@dataclass(frozen=True, kw_only=True)
class ProductDiscontinued(CatalogEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class StockReserved(CatalogEvent):
    order_id: str
    quantity: int
    expires_at: str
    on_hand: int
    #: Units held by unexpired reservations, this one included.
    reserved: int


@dataclass(frozen=True, kw_only=True)
class StockReleased(CatalogEvent):
    order_id: str
    quantity: int
    #: ``released``, or ``expired`` when the reservation had run out already.
    reason: str
    reserved: int


@dataclass(frozen=True, kw_only=True)
class StockCommitted(CatalogEvent):
    order_id: str
    quantity: int
    on_hand: int
    reserved: int


@dataclass(frozen=True, kw_only=True)
class StockReturned(CatalogEvent):
    """Units an order had committed, back on hand: its saga undid the order."""

    order_id: str
    quantity: int
    on_hand: int
