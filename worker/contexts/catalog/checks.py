"""The catalog's reconciliation check, which ``check`` runs beside the other contexts' checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from worker.contexts.catalog.published import StockFacts, read_stock
from worker.ops.check.engine import CheckResult, Judged, Reading, Snapshot
from worker.ops.check.facts import Violation


def _utc_now() -> datetime:
    return datetime.now(UTC)


def stock_violations(stock: Iterable[StockFacts], now: datetime) -> list[Violation]:
    """Stock is never negative, and unexpired reservations never hold more than is on hand."""
    found: list[Violation] = []
    for product in stock:
        if product.on_hand < 0:
            found.append(Violation("negative_stock", product.sku, f"{product.on_hand} on hand"))
        reserved = product.reserved(now)
        if reserved > max(product.on_hand, 0):
            found.append(
                Violation(
                    "stock_overreserved",
                    product.sku,
                    f"{reserved} reserved by unexpired reservations, {product.on_hand} on hand",
                )
            )
    return found


@dataclass(frozen=True)
class CatalogCheck:
    name: str = "catalog"
    #: The time reservations are judged at (expired ones hold nothing).
    clock: Callable[[], datetime] = field(default=_utc_now, compare=False)

    async def read(self, snapshot: Snapshot) -> Reading:
        stock = await read_stock(snapshot.db, snapshot.progress)
        now = self.clock()
        figures = {
            "products": len(stock),
            "on_hand": sum(product.on_hand for product in stock),
            "reserved": sum(product.reserved(now) for product in stock),
        }
        return Judged(
            CheckResult(
                violations=stock_violations(stock, now),
                figures={"catalog": figures},
                summary=f"catalog: {len(stock)} products checked",
            )
        )


CATALOG_CHECK = CatalogCheck()
