"""An order and its lines stored across two tables, on SQLite and PostgreSQL, through the
real unit of work; its tables from the orders context's own migrations."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from datetime import datetime
from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from domain.orders.order import Order, OrderStatus
from domain.orders.pricing import Pricing
from tests.integration.context_storage import Storage, database_fixture, eur, worker_cli
from tests.wiring import CONTEXTS
from worker.config import Settings
from worker.context import Contexts
from worker.contexts import orders
from worker.contexts.orders.persistence import OrderLineRow
from worker.persistence import database, sql

pytestmark = pytest.mark.integration

storage = Storage(CONTEXTS)
orders_database = database_fixture("orders", CONTEXTS)


def lines_of(order: Order) -> list[tuple[str, int, str, str, str]]:
    return [
        (
            line.sku,
            line.quantity,
            line.unit_price.to_string(),
            line.discount.to_string(),
            line.subtotal.to_string(),
        )
        for line in order.lines
    ]


async def a_draft(*lines: tuple[str, int, str]) -> str:
    order_id = f"o-{uuid.uuid4().hex[:8]}"
    async with storage.unit_of_work() as uow:
        order = Order.create(order_id, "alice", "alice-eur", "EUR")
        for sku, quantity, price in lines:
            order.add_line(sku, quantity, eur(price))
        uow.repository(Order).add(order)
        await storage.commit(uow)
    return order_id


async def change(order_id: str, *changes: Any) -> None:
    async with storage.unit_of_work() as uow:
        order = await uow.repository(Order).get(order_id)
        assert order is not None
        for method, *arguments in changes:
            getattr(order, method)(*arguments)
        await storage.commit(uow)


async def saga_record(order_id: str) -> tuple[str, str]:
    """What the saga machinery reads of an order: its ``status`` and ``reason`` columns."""
    async with storage.unit_of_work() as uow:
        db = uow._db  # type: ignore[attr-defined]
        query = sql.dialect_sql(db, "SELECT status, reason FROM orders WHERE id = ?")
        _, rows = await db.execute_query(query, [order_id])
    return str(rows[0]["status"]), str(rows[0]["reason"])


async def test_a_placed_order_loads_back_with_its_priced_lines_in_order(
    orders_database: str,
) -> None:
    order_id = await a_draft(("TEA-7", 1, "4.50"), ("MUG-1", 10, "2.00"), ("PEN-3", 50, "0.99"))
    await change(order_id, ("place", Pricing()))

    order = await storage.stored(Order, order_id)
    assert lines_of(order) == [
        ("TEA-7", 1, "4.50", "0.00", "4.50"),
        ("MUG-1", 10, "2.00", "1.00", "19.00"),
        ("PEN-3", 50, "0.99", "4.95", "44.55"),
    ]
    assert order.total == eur("68.05")
    assert (order.customer_id, order.payment_account_id, order.currency) == (
        "alice",
        "alice-eur",
        "EUR",
    )
    assert (order.status, order.version, order.charging, order.cancel_requested) == (
        OrderStatus.PLACED,
        5,
        False,
        False,
    )
    assert isinstance(order.created_at, datetime) and isinstance(order.updated_at, datetime)
    assert order.created_at <= order.updated_at


async def test_a_draft_has_no_total_until_it_is_placed(orders_database: str) -> None:
    order_id = await a_draft(("MUG-1", 2, "2.00"))

    order = await storage.stored(Order, order_id)
    assert order.total is None
    assert lines_of(order) == [("MUG-1", 2, "2.00", "0.00", "4.00")]


async def test_changed_and_removed_lines_are_rewritten_with_the_order(
    orders_database: str,
) -> None:
    order_id = await a_draft(("MUG-1", 1, "2.00"), ("TEA-7", 1, "4.50"), ("PEN-3", 1, "0.99"))
    await change(order_id, ("remove_line", "MUG-1"), ("update_line", "PEN-3", 12))

    order = await storage.stored(Order, order_id)
    assert [(sku, quantity) for sku, quantity, *_ in lines_of(order)] == [
        ("TEA-7", 1),
        ("PEN-3", 12),
    ]
    assert await OrderLineRow.filter(order_id=order_id).count() == 2  # the removed line is gone
    assert order.version == 6


async def test_the_cancellation_request_the_charge_mark_and_the_outcome_are_stored(
    orders_database: str,
) -> None:
    cancelled = await a_draft(("MUG-1", 1, "2.00"))
    await change(cancelled, ("place", Pricing()), ("cancel", "changed my mind"))
    charging = await a_draft(("MUG-1", 1, "2.00"))
    await change(charging, ("place", Pricing()), ("start_charge",))

    requested = await storage.stored(Order, cancelled)
    assert (requested.cancel_requested, requested.reason) == (True, "changed my mind")
    assert (await storage.stored(Order, charging)).charging is True

    await change(cancelled, ("end", "compensated", "stock released"))
    assert await saga_record(cancelled) == ("cancelled", "changed my mind")
    await change(charging, ("end", "needs_operator", "the charge timed out"))
    assert await saga_record(charging) == ("needs_operator", "the charge timed out")


async def test_a_stale_copy_writes_none_of_its_lines(orders_database: str) -> None:
    order_id = await a_draft(("MUG-1", 1, "2.00"), ("TEA-7", 1, "4.50"))
    await storage.commit_a_stale_copy(
        Order, order_id, "orders", lambda stale: stale.remove_line("MUG-1")
    )

    order = await storage.stored(Order, order_id)
    assert [sku for sku, *_ in lines_of(order)] == ["MUG-1", "TEA-7"]


def orders_cli(url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``python -m worker orders ...`` on the database at ``url``, as a user runs it."""
    return worker_cli(url, "orders", *arguments)


async def test_the_cli_shows_an_order_with_its_lines_prices_and_total(
    orders_database: str,
) -> None:
    order_id = await a_draft(("MUG-1", 10, "2.00"), ("TEA-7", 1, "4.50"))
    await change(order_id, ("place", Pricing()), ("cancel", "changed my mind"))

    shown = await asyncio.to_thread(orders_cli, orders_database, "show", order_id, "--json")
    listed = await asyncio.to_thread(orders_cli, orders_database, "list", "--status", "placed")

    assert shown.returncode == 0, shown.stderr
    order = json.loads(shown.stdout)
    assert {key: order[key] for key in ("order_id", "status", "currency", "total", "reason")} == {
        "order_id": order_id,
        "status": "placed",
        "currency": "EUR",
        "total": "23.50",
        "reason": "changed my mind",
    }
    assert order["lines"][0] == {
        "sku": "MUG-1",
        "quantity": 10,
        "unit_price": "2.00",
        "discount": "1.00",
        "subtotal": "19.00",
    }
    assert (order["customer_id"], order["cancel_requested"], order["version"]) == (
        "alice",
        True,
        5,
    )
    assert listed.returncode == 0, listed.stderr
    assert any(line.startswith(order_id) for line in listed.stdout.splitlines())


async def test_the_cli_refuses_an_unknown_order_and_an_unknown_status_in_one_line(
    orders_database: str,
) -> None:
    unknown = await asyncio.to_thread(orders_cli, orders_database, "show", "o-nowhere")
    bad_status = await asyncio.to_thread(orders_cli, orders_database, "list", "--status", "lost")

    assert (unknown.returncode, unknown.stderr) == (1, "error: order o-nowhere does not exist\n")
    assert bad_status.returncode == 2
    [line] = bad_status.stderr.splitlines()
    assert "'lost'" in line and "draft, placed, confirmed" in line and "needs_operator" in line


async def test_the_orders_models_match_its_migrations() -> None:
    alone = Contexts([orders.CONTEXT])  # its own models and migrations, no other context's
    config = database.tortoise_config(Settings(database_url="sqlite://:memory:"), alone)
    await Tortoise.init(config=config, init_connections=False)
    try:
        assert Tortoise.apps is not None
        changes = await MigrationAutodetector(Tortoise.apps, config["apps"]).changes()
        owned = list(Tortoise.apps["orders"])
    finally:
        await database.close()
    assert [change.name for change in changes] == []
    assert owned == ["OrderRow", "OrderLineRow"]
