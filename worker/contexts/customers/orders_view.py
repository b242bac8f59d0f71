"""What ``customers orders`` shows: a customer's orders as the ``customer_orders``
projection has them so far, as JSON and as a table."""

from __future__ import annotations

from typing import Any

from worker.contexts.customers.orders_projection import CUSTOMER_ORDERS, orders_of
from worker.contexts.customers.persistence import CustomerRow
from worker.readside.read_model import open_read_model

#: What ``--json`` shows of each order, in this order.
ORDER_FIELDS = ("order_id", "status", "total", "lines", "placed_at", "ended_at")
HEADER = f"{'ORDER':<20} {'STATUS':<14} {'TOTAL':>22} {'LINES':>5}  {'PLACED':<32} ENDED"


async def customer_orders(customer_id: str) -> list[dict[str, Any]] | None:
    """The customer's orders, by order id; None when there is no such customer
    (tortoise connected). ``db migrate`` creates the projection's live tables: a database
    without them is reported as not migrated, like any other missing table."""
    if not await CustomerRow.exists(id=customer_id):
        return None
    return await orders_of(await open_read_model(CUSTOMER_ORDERS), customer_id)


def orders_json(customer_id: str, orders: list[dict[str, Any]]) -> dict[str, Any]:
    shown = [{field: order[field] for field in ORDER_FIELDS} for order in orders]
    return {"customer_id": customer_id, "orders": shown}


def _row(order: dict[str, Any]) -> str:
    total = "-" if order["total"] is None else f"{order['total']} {order['currency']}"
    return (
        f"{order['order_id']:<20} {order['status']:<14} {total:>22} {order['lines']:>5}  "
        f"{order['placed_at'] or '-':<32} {order['ended_at'] or '-'}"
    )


def orders_table(orders: list[dict[str, Any]]) -> str:
    return "\n".join([HEADER, *(_row(order) for order in orders)])
