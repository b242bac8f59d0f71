"""How an Order is stored: the order's row and one row per line, written in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.orders.order import Order, OrderLineItem, OrderStatus
from domain.shared.money import Money
from worker.persistence.store import AggregateStore, ChildRows, ChildRowsOf


class OrderRow(Model):
    id = fields.CharField(pk=True, max_length=64)
    customer_id = fields.CharField(max_length=64, db_index=True)
    payment_account_id = fields.CharField(max_length=64)
    currency = fields.CharField(max_length=3)
    # The saga's record: its starter, retention and ``sagas`` read these two columns.
    status = fields.CharField(max_length=16, db_index=True)
    reason = fields.TextField(default="")
    # None until the order is placed (a draft's prices may still change).
    total = fields.DecimalField(max_digits=24, decimal_places=4, null=True)
    charging = fields.BooleanField(default=False)
    cancel_requested = fields.BooleanField(default=False)
    version = fields.IntField()
    # The times of the order's first and latest events, not of the writes.
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "orders"


class OrderLineRow(Model):
    id = fields.BigIntField(pk=True)
    order_id = fields.CharField(max_length=64, db_index=True)
    # The line's place in the order: lines keep the order they were added in.
    position = fields.IntField()
    sku = fields.CharField(max_length=32)
    quantity = fields.IntField()
    unit_price = fields.DecimalField(max_digits=24, decimal_places=4)
    discount = fields.DecimalField(max_digits=24, decimal_places=4)
    subtotal = fields.DecimalField(max_digits=24, decimal_places=4)

    class Meta:
        table = "order_lines"
        unique_together = (("order_id", "position"),)


#: The module's tables, registered in the context's tortoise app (imported classes are not).
__models__ = [OrderRow, OrderLineRow]


def order_to_domain(row: OrderRow, children: ChildRowsOf) -> Order:
    lines: Sequence[Any] = children.get(OrderLineRow, [])
    currency = row.currency
    return Order(
        id=row.id,
        customer_id=row.customer_id,
        payment_account_id=row.payment_account_id,
        currency=currency,
        status=OrderStatus(row.status),
        lines=[
            OrderLineItem(
                line.sku,
                line.quantity,
                Money.of(Decimal(line.unit_price), currency),
                Money.of(Decimal(line.discount), currency),
                Money.of(Decimal(line.subtotal), currency),
            )
            for line in lines
        ],
        total=None if row.total is None else Money.of(Decimal(row.total), currency),
        reason=row.reason,
        charging=row.charging,
        cancel_requested=row.cancel_requested,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def order_fields(order: Order) -> dict[str, Any]:
    """The order row's columns, version excluded (the repository sets it)."""
    return {
        "customer_id": order.customer_id,
        "payment_account_id": order.payment_account_id,
        "currency": order.currency,
        "status": order.status.value,
        "reason": order.reason,
        "total": None if order.total is None else order.total.amount,
        "charging": order.charging,
        "cancel_requested": order.cancel_requested,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def line_rows(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "position": position,
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price": line.unit_price.amount,
            "discount": line.discount.amount,
            "subtotal": line.subtotal.amount,
        }
        for position, line in enumerate(order.lines, 1)
    ]


ORDERS = AggregateStore(
    Order,
    OrderRow,
    order_to_domain,
    order_fields,
    (ChildRows(OrderLineRow, "order_id", line_rows, "position"),),
)
