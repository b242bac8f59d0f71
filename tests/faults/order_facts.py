"""What the orders checker reads from the scenario's database: orders, stock, their events."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg

#: Where an order rests: waiting longer changes nothing (needs_operator waits for a person).
ENDED = frozenset({"confirmed", "rejected", "cancelled"})
AT_REST = ENDED | {"needs_operator"}


@dataclass(frozen=True)
class OrderRow:
    order_id: str
    account_id: str
    status: str
    reason: str
    total: Decimal | None


@dataclass(frozen=True)
class ShopEvent:
    """An event of the catalog or the orders, with its payload."""

    type: str
    aggregate_id: str
    causation_id: str | None
    payload: dict[str, Any]


@dataclass
class ShopFacts:
    """The orders and the stock at one moment."""

    orders: dict[str, OrderRow] = field(default_factory=dict)
    #: Each order's lines: units by sku.
    lines: dict[str, dict[str, int]] = field(default_factory=dict)
    on_hand: dict[str, int] = field(default_factory=dict)
    #: Every stored reservation (expired or not): units by (order id, sku).
    held: dict[tuple[str, str], int] = field(default_factory=dict)
    events: list[ShopEvent] = field(default_factory=list)

    def by_status(self, order_ids: list[str]) -> dict[str, int]:
        found: defaultdict[str, int] = defaultdict(int)
        for order_id in order_ids:
            row = self.orders.get(order_id)
            found["missing" if row is None else row.status] += 1
        return dict(found)

    def running(self) -> list[str]:
        """Orders whose saga is still under way (placed, not at rest yet)."""
        return sorted(o.order_id for o in self.orders.values() if o.status == "placed")


async def read_shop(url: str) -> ShopFacts:
    connection = await asyncpg.connect(url)
    try:
        orders = await connection.fetch(
            "SELECT id, payment_account_id, status, reason, total FROM orders"
        )
        lines = await connection.fetch("SELECT order_id, sku, quantity FROM order_lines")
        products = await connection.fetch("SELECT id, on_hand FROM products")
        held = await connection.fetch("SELECT order_id, sku, quantity FROM product_reservations")
        events = await connection.fetch(
            "SELECT event_type, aggregate_id, causation_id, payload FROM outbox"
            " WHERE event_type LIKE 'catalog.%' OR event_type LIKE 'orders.%' ORDER BY id"
        )
    finally:
        await connection.close()
    facts = ShopFacts(
        orders={
            r["id"]: OrderRow(
                r["id"],
                r["payment_account_id"],
                r["status"],
                r["reason"],
                None if r["total"] is None else Decimal(r["total"]),
            )
            for r in orders
        },
        on_hand={r["id"]: int(r["on_hand"]) for r in products},
        held={(r["order_id"], r["sku"]): int(r["quantity"]) for r in held},
        events=[
            ShopEvent(
                r["event_type"], r["aggregate_id"], r["causation_id"], json.loads(r["payload"])
            )
            for r in events
        ],
    )
    for row in lines:
        facts.lines.setdefault(row["order_id"], {})[row["sku"]] = int(row["quantity"])
    return facts
