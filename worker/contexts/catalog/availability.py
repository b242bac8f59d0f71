"""The ``product_availability`` projection: one row per product, its stock as its events
last told it.

``reserved`` is what the product's latest event counted as held: a reservation that
runs out records no event, so its units stay counted here until the product's next
reservation, release or commit (``products show`` counts them at the clock's time).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from domain.catalog import events
from domain.catalog.product import ProductStatus
from worker.readside.declarations import LoggedEvent, Projection
from worker.readside.read_model import ReadModel

ADDED = events.ProductAdded.type_name()
DISCONTINUED = events.ProductDiscontinued.type_name()
ACTIVE = ProductStatus.ACTIVE.value
#: The events that change stock, with the counts each one's payload carries: a count
#: an event does not carry stays as it was.
COUNTS = {
    events.ProductRestocked.type_name(): ("on_hand",),
    events.StockReserved.type_name(): ("on_hand", "reserved"),
    events.StockReleased.type_name(): ("reserved",),
    events.StockCommitted.type_name(): ("on_hand", "reserved"),
    events.StockReturned.type_name(): ("on_hand",),
}

TABLES = {
    "product_availability": (
        """CREATE TABLE {table} (
            sku TEXT PRIMARY KEY,
            on_hand BIGINT NOT NULL,
            reserved BIGINT NOT NULL,
            available BIGINT NOT NULL,
            status TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            version INTEGER NOT NULL
        )""",
    )
}
COLUMNS = ("sku", "on_hand", "reserved", "available", "status", "changed_at", "version")
LIST_SQL = f"SELECT {', '.join(COLUMNS)} FROM {{product_availability}}"
ROW_SQL = f"{LIST_SQL} WHERE sku = ?"
INSERT_SQL = (
    f"INSERT INTO {{product_availability}} ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(COLUMNS))})"
)
UPDATE_SQL = (
    "UPDATE {product_availability} SET "
    + ", ".join(f"{column} = ?" for column in COLUMNS[1:])
    + " WHERE sku = ?"
)


class NotAddedYet(Exception):
    """A product's stock event came before its ``ProductAdded``: the log is not whole."""


@dataclass(frozen=True)
class Availability:
    sku: str
    on_hand: int
    reserved: int
    status: str
    changed_at: str
    version: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def row(self) -> dict[str, Any]:
        return {**asdict(self), "available": self.available}


def advanced(current: Availability | None, event: LoggedEvent) -> Availability:
    """The product's availability once ``event`` happened (pure: a rebuild gives the same)."""
    payload = event.payload
    if event.event_type == ADDED:
        current = Availability(event.aggregate_id, int(payload["on_hand"]), 0, ACTIVE, "", 0)
    elif current is None:
        raise NotAddedYet(f"{event.event_type} of {event.aggregate_id} before its ProductAdded")
    elif event.event_type == DISCONTINUED:
        current = replace(current, status=ProductStatus.DISCONTINUED.value)
    else:
        carried = COUNTS[event.event_type]
        current = replace(
            current,
            on_hand=int(payload["on_hand"]) if "on_hand" in carried else current.on_hand,
            reserved=int(payload["reserved"]) if "reserved" in carried else current.reserved,
        )
    return replace(current, changed_at=event.occurred_at, version=event.aggregate_version)


async def apply_stock_event(event: LoggedEvent, model: ReadModel) -> None:
    rows = await model.fetch(ROW_SQL, [event.aggregate_id])
    current = _availability(rows[0]) if rows else None
    row = advanced(current, event).row()
    if event.event_type == ADDED:  # a plain INSERT: a second ProductAdded fails loudly
        await model.execute(INSERT_SQL, [row[column] for column in COLUMNS])
    else:
        await model.execute(UPDATE_SQL, [*(row[column] for column in COLUMNS[1:]), row["sku"]])


def _availability(row: dict[str, Any]) -> Availability:
    return Availability(
        sku=row["sku"],
        on_hand=int(row["on_hand"]),
        reserved=int(row["reserved"]),
        status=row["status"],
        changed_at=row["changed_at"],
        version=int(row["version"]),
    )


PRODUCT_AVAILABILITY = Projection(
    name="product_availability",
    events=(ADDED, *COUNTS, DISCONTINUED),
    tables=TABLES,
    apply=apply_stock_event,
)

#: What ``products availability`` shows of each product.
SHOWN = ("sku", "on_hand", "reserved", "available", "status", "changed_at")


async def availability_of(model: ReadModel, sku: str | None = None) -> list[dict[str, Any]]:
    """Every product's availability (or the one sku's), ordered by sku."""
    where, params = ("", []) if sku is None else (" WHERE sku = ?", [sku])
    rows = await model.fetch(f"{LIST_SQL}{where} ORDER BY sku", params)
    return [{key: _availability(row).row()[key] for key in SHOWN} for row in rows]
