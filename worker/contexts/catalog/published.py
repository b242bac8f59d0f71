"""What the catalog lets other contexts read: a product's price and status, and its stock.

The only module of this context another context may import. Handlers read a product
through :class:`ProductCatalog`, in their own unit of work's transaction; checks read
the stock through :func:`read_stock`, inside the check engine's snapshot.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from domain.catalog.product import Product
from worker.bus.unit_of_work import UnitOfWork
from worker.contexts.catalog.persistence import ProductRow, ReservationRow
from worker.ops.check.engine import NoProgress, Progress

__all__ = ["HeldStock", "ProductCatalog", "ProductView", "StockFacts", "read_stock"]


@dataclass(frozen=True)
class ProductView:
    sku: str
    name: str
    #: A decimal string with the currency's minor-unit digits (``"12.50"``).
    price: str
    currency: str
    #: ``active`` or ``discontinued``.
    status: str


class ProductCatalog:
    """A read port for other contexts' handlers (``uow.read_port(ProductCatalog)``)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._products = uow.repository(Product)

    async def product(self, sku: str) -> ProductView | None:
        """The product as an order line sees it, or None when there is no such product."""
        product = await self._products.get(sku)
        if product is None:
            return None
        price = product.price
        return ProductView(
            product.sku, product.name, price.to_string(), str(price.currency), product.status.value
        )


@dataclass(frozen=True)
class HeldStock:
    """One stored reservation, as the rows hold it (expired or not)."""

    order_id: str
    quantity: int
    expires_at: datetime


@dataclass(frozen=True)
class StockFacts:
    """A product's stock as stored: what is on hand, and every reservation on it."""

    sku: str
    on_hand: int
    reservations: tuple[HeldStock, ...] = ()

    def reserved(self, now: datetime) -> int:
        """Units held by the reservations unexpired at ``now``."""
        return sum(held.quantity for held in self.reservations if now < held.expires_at)


async def read_stock(db: BaseDBAsyncClient, progress: Progress | None = None) -> list[StockFacts]:
    """Every product's stock, by sku, read through ``db`` (the check engine's snapshot)."""
    progress = progress or NoProgress()
    products = await ProductRow.all().using_db(db).order_by("id")
    progress.start("reading the stock", len(products))
    held: defaultdict[str, list[HeldStock]] = defaultdict(list)
    for row in await ReservationRow.all().using_db(db).order_by("sku", "order_id"):
        held[row.sku].append(HeldStock(row.order_id, row.quantity, row.expires_at))
    facts = [StockFacts(row.id, row.on_hand, tuple(held[row.id])) for row in products]
    progress.advance(len(products))
    return facts
