"""The product_availability projection's pure part: a product's availability after each
of its events, built from the payloads the catalog really publishes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from domain.catalog import events
from domain.catalog.events import CatalogEvent
from worker.bus.unit_of_work import MessageContext
from worker.contexts.catalog import CONTEXT
from worker.contexts.catalog.availability import (
    PRODUCT_AVAILABILITY,
    Availability,
    NotAddedYet,
    advanced,
)
from worker.persistence.outbox import outbox_columns
from worker.readside.declarations import LoggedEvent

SKU = "MUG-1"
START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def logged(version: int, event_class: type[CatalogEvent], **fields: object) -> LoggedEvent:
    """The log's row of a catalog event of MUG-1, at minute ``version`` past nine."""
    event = event_class(
        aggregate_id=SKU,
        aggregate_version=version,
        occurred_at=START + timedelta(minutes=version),
        **fields,
    )
    row = outbox_columns(event, MessageContext(f"m-{version}", "Command", "c-1"))
    payload = json.loads(row["payload"])
    return LoggedEvent(
        position=100 + version,
        event_id=row["event_id"],
        event_type=row["event_type"],
        aggregate_type=row["aggregate_type"],
        aggregate_id=row["aggregate_id"],
        aggregate_version=version,
        payload=payload,
        occurred_at=payload["occurred_at"],
        correlation_id="c-1",
        causation_id=f"m-{version}",
    )


def added(on_hand: int = 10) -> LoggedEvent:
    return logged(
        1, events.ProductAdded, product_name="Mug", price="8.00", currency="EUR", on_hand=on_hand
    )


def hold(order: str, quantity: int) -> dict[str, object]:
    return {"order_id": order, "quantity": quantity}


def history() -> list[LoggedEvent]:
    """Ten mugs; O1 reserves 3, O2 reserves 2, O1 commits, O2 releases, O1 returns 1,
    six more arrive, and the mug is discontinued."""
    later = (START + timedelta(hours=1)).isoformat()
    return [
        added(10),
        logged(2, events.StockReserved, **hold("O1", 3), expires_at=later, on_hand=10, reserved=3),
        logged(3, events.StockReserved, **hold("O2", 2), expires_at=later, on_hand=10, reserved=5),
        logged(4, events.StockCommitted, **hold("O1", 3), on_hand=7, reserved=2),
        logged(5, events.StockReleased, **hold("O2", 2), reason="released", reserved=0),
        logged(6, events.StockReturned, **hold("O1", 1), on_hand=8),
        logged(7, events.ProductRestocked, quantity=6, on_hand=14),
        logged(8, events.ProductDiscontinued),
    ]


def after(logged_events: list[LoggedEvent]) -> list[Availability]:
    """The availability after each event, in turn."""
    states: list[Availability] = []
    current = None
    for event in logged_events:
        current = advanced(current, event)
        states.append(current)
    return states


def test_availability_follows_reserve_commit_release_return_restock_and_discontinue() -> None:
    counts = [(s.on_hand, s.reserved, s.available, s.status) for s in after(history())]
    assert counts == [
        (10, 0, 10, "active"),
        (10, 3, 7, "active"),
        (10, 5, 5, "active"),
        (7, 2, 5, "active"),
        (7, 0, 7, "active"),
        (8, 0, 8, "active"),
        (14, 0, 14, "active"),
        (14, 0, 14, "discontinued"),
    ]


def test_each_event_stamps_its_time_and_version() -> None:
    last = after(history())[-1]
    assert (last.sku, last.version, last.changed_at) == (SKU, 8, "2024-05-01T09:08:00+00:00")


def test_an_event_lacking_a_count_leaves_it_as_it_was() -> None:
    reserved = after(history()[:3])[-1]
    returned = advanced(reserved, logged(4, events.StockReturned, **hold("O9", 1), on_hand=11))
    assert (returned.on_hand, returned.reserved, returned.available) == (11, 5, 6)
    released = advanced(
        reserved, logged(4, events.StockReleased, **hold("O2", 2), reason="expired", reserved=3)
    )
    assert (released.on_hand, released.reserved) == (10, 3)


def test_the_row_holds_available_beside_the_counts() -> None:
    assert after(history()[:2])[-1].row() == {
        "sku": SKU,
        "on_hand": 10,
        "reserved": 3,
        "available": 7,
        "status": "active",
        "changed_at": "2024-05-01T09:02:00+00:00",
        "version": 2,
    }


def test_a_stock_event_before_the_product_was_added_is_refused() -> None:
    with pytest.raises(NotAddedYet, match="StockReturned of MUG-1"):
        advanced(None, logged(2, events.StockReturned, **hold("O1", 1), on_hand=1))


def test_the_projection_follows_every_stock_event_but_price_changes() -> None:
    published = {event.type_name() for event in CONTEXT.events}
    assert set(PRODUCT_AVAILABILITY.events) == published - {"catalog.ProductPriceChanged"}
    assert PRODUCT_AVAILABILITY in CONTEXT.subscriptions
