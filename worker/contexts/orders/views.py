"""What orders show of themselves: an order's JSON, read from a connected database (the
CLI prints it, the HTTP API serves it)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tortoise.expressions import Subquery

from domain.orders.order import Order
from worker.contexts.orders.persistence import OrderLineRow, OrderRow, order_to_domain


def _time(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat()


def order_json(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "customer_id": order.customer_id,
        "payment_account_id": order.payment_account_id,
        "status": order.status.value,
        "currency": order.currency,
        "total": None if order.total is None else order.total.to_string(),
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price.to_string(),
                "discount": line.discount.to_string(),
                "subtotal": line.subtotal.to_string(),
            }
            for line in order.lines
        ],
        "reason": order.reason,
        "charging": order.charging,
        "cancel_requested": order.cancel_requested,
        "version": order.version,
        "created_at": _time(order.created_at),
        "updated_at": _time(order.updated_at),
    }


async def read_orders(order_id: str | None, status: str | None = None) -> list[Order]:
    """The orders (all, those in ``status``, or the one) from a connected database."""
    query = OrderRow.all() if order_id is None else OrderRow.filter(id=order_id)
    if status is not None:
        query = query.filter(status=status)
    rows = await query.order_by("id")
    lines: defaultdict[str, list[OrderLineRow]] = defaultdict(list)
    # A subquery, not a list of ids: a long list would pass SQLite's limit of parameters.
    wanted = OrderLineRow.filter(order_id__in=Subquery(query.values("id")))
    for line in await wanted.order_by("order_id", "position"):
        lines[line.order_id].append(line)
    return [order_to_domain(row, {OrderLineRow: lines[row.id]}) for row in rows]
