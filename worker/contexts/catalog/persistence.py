"""How a Product is stored: its row, and one row per reservation, written in one transaction.

The root's key column is ``id`` (it holds the sku), as the framework's repository
reads and writes every root by ``id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.catalog.product import Product, ProductStatus, Reservation
from domain.shared.money import Money
from worker.persistence.store import AggregateStore, ChildRows, ChildRowsOf


class ProductRow(Model):
    id = fields.CharField(primary_key=True, max_length=32)
    name = fields.CharField(max_length=200)
    price = fields.DecimalField(max_digits=24, decimal_places=4)
    currency = fields.CharField(max_length=3)
    status = fields.CharField(max_length=16)
    on_hand = fields.BigIntField()
    version = fields.IntField()
    # The times of the product's first and latest events (the aggregate keeps them).
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "products"


class ReservationRow(Model):
    id = fields.BigIntField(primary_key=True)
    sku = fields.CharField(max_length=32, db_index=True)
    order_id = fields.CharField(max_length=64)
    quantity = fields.IntField()
    expires_at = fields.DatetimeField()

    class Meta:
        table = "product_reservations"
        unique_together = (("sku", "order_id"),)


#: The module's tables, registered in the context's tortoise app (imported classes are not).
__models__ = [ProductRow, ReservationRow]


def reservation_of(row: ReservationRow) -> Reservation:
    return Reservation(row.order_id, row.quantity, row.expires_at)


def product_to_domain(row: ProductRow, children: ChildRowsOf) -> Product:
    held: Sequence[Any] = children.get(ReservationRow, [])
    return Product(
        sku=row.id,
        name=row.name,
        price=Money.of(Decimal(row.price), row.currency),
        status=ProductStatus(row.status),
        on_hand=row.on_hand,
        reservations={r.order_id: reservation_of(r) for r in held},
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def product_columns(product: Product) -> dict[str, Any]:
    """The root row's columns, version excluded (the repository sets it and checks it)."""
    return {
        "name": product.name,
        "price": product.price.amount,
        "currency": str(product.currency),
        "status": product.status.value,
        "on_hand": product.on_hand,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }


def reservation_rows(product: Product) -> list[dict[str, Any]]:
    return [
        {"order_id": r.order_id, "quantity": r.quantity, "expires_at": r.expires_at}
        for r in product.reservations.values()
    ]


PRODUCTS = AggregateStore(
    Product,
    ProductRow,
    product_to_domain,
    product_columns,
    (ChildRows(ReservationRow, "sku", reservation_rows, "order_id"),),
)
