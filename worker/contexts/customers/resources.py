"""What customers serve over HTTP: a customer as ``customers show --json`` prints it, and
their orders from the ``customer_orders`` projection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from worker.contexts.customers.orders_view import customer_orders, orders_json
from worker.contexts.customers.views import read_customers
from worker.web.resources import Resource


async def _customer(path: Mapping[str, str]) -> dict[str, Any] | None:
    found = await read_customers(path["customer_id"])
    return found[0] if found else None


async def _orders(path: Mapping[str, str]) -> dict[str, Any] | None:
    orders = await customer_orders(path["customer_id"])
    return None if orders is None else orders_json(path["customer_id"], orders)


RESOURCES = (
    Resource(
        "/customers/{customer_id}",
        _customer,
        "A customer: name, email, payment account, loyalty points and addresses.",
    ),
    Resource(
        "/customers/{customer_id}/orders",
        _orders,
        "A customer's orders, newest first, with their status and total.",
        projection="customer_orders",
    ),
)
