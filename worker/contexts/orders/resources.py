"""What orders serve over HTTP: an order as ``orders show --json`` prints it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from worker.contexts.orders.views import order_json, read_orders
from worker.web.resources import Resource


async def _order(path: Mapping[str, str]) -> dict[str, Any] | None:
    found = await read_orders(path["order_id"])
    return order_json(found[0]) if found else None


RESOURCES = (
    Resource("/orders/{order_id}", _order, "An order: its lines, total, status and saga."),
)
