"""What the catalog shows of its products: their JSON, read from a connected database
(the CLI prints it, the HTTP API serves it)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from worker.contexts.catalog.persistence import ProductRow, ReservationRow, product_to_domain


def product_json(row: ProductRow, held: list[ReservationRow], now: datetime) -> dict[str, Any]:
    product = product_to_domain(row, {ReservationRow: held})
    return {
        "sku": product.sku,
        "name": product.name,
        "price": product.price.to_string(),
        "currency": str(product.currency),
        "status": product.status.value,
        "on_hand": product.on_hand,
        "reserved": product.reserved(now),
        "available": product.available(now),
        "version": product.version,
    }


async def read_products(sku: str | None) -> list[dict[str, Any]]:
    rows = ProductRow.all() if sku is None else ProductRow.filter(id=sku)
    held = ReservationRow.all() if sku is None else ReservationRow.filter(sku=sku)
    by_sku: defaultdict[str, list[ReservationRow]] = defaultdict(list)
    for reservation in await held.order_by("order_id"):
        by_sku[reservation.sku].append(reservation)
    now = datetime.now(UTC)
    return [product_json(row, by_sku[row.id], now) for row in await rows.order_by("id")]
