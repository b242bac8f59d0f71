"""What happens to products, in the past tense. Published as ``catalog.<EventName>``.

Amounts are decimal strings, quantities ints, times ISO-8601 strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from domain.shared.model import DomainEvent


@dataclass(frozen=True, kw_only=True)
class CatalogEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "catalog"

    def payload(self) -> dict[str, Any]:
        fields = super().payload()
        return {"sku": fields.pop("aggregate_id"), **fields}


@dataclass(frozen=True, kw_only=True)
class ProductAdded(CatalogEvent):
    """Its payload names the product ``name``; the attribute is ``product_name`` because
    one called ``name`` would hide DomainEvent.name() on the instance."""

    product_name: str
    price: str
    currency: str
    on_hand: int

    def payload(self) -> dict[str, Any]:
        fields = super().payload()
        return {"sku": fields.pop("sku"), "name": fields.pop("product_name"), **fields}


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
