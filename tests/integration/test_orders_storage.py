"""An order and its lines stored across two tables, on SQLite and PostgreSQL, through the
real unit of work; its tables from the orders context's own migrations."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.autodetector import MigrationAutodetector

from domain.orders.order import Order, OrderStatus
from domain.orders.pricing import Pricing
from domain.shared.errors import ConcurrencyConflict
from domain.shared.money import Money
from tests.services import create_database, drop_database, pg_url
from worker.bootstrap import contexts
from worker.bus.outcomes import Outcome
from worker.bus.unit_of_work import MessageContext, UnitOfWork
from worker.config import Settings
from worker.context import Contexts
from worker.contexts import orders
from worker.contexts.orders.persistence import OrderLineRow
from worker.persistence import database, sql
from worker.persistence.unit_of_work import TortoiseUnitOfWorkFactory

pytestmark = pytest.mark.integration

# The composition root does not list the orders context yet: the test lists it alone.
WITH_ORDERS = Contexts([orders.CONTEXT])
uow_factory = TortoiseUnitOfWorkFactory(WITH_ORDERS.aggregates, WITH_ORDERS.read_ports)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres"], scope="module")
async def orders_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The database's URL, migrated and connected."""
    name = f"worker_orders_{uuid.uuid4().hex[:8]}"
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('orders') / 'orders.sqlite3'}"
    else:
        await asyncio.to_thread(create_database, name)
        url = pg_url(name)
    settings = Settings(database_url=url)
    await database.migrate(settings, WITH_ORDERS)
    await database.connect(settings, WITH_ORDERS)
    try:
        yield url
    finally:
        await database.close()
        EXECUTOR_CACHE.clear()
        if request.param == "postgres":
            await asyncio.to_thread(drop_database, name)


def unit_of_work() -> UnitOfWork:
    return uow_factory(MessageContext(f"msg-{uuid.uuid4().hex}", "test"))


async def commit(uow: UnitOfWork) -> None:
    await uow.commit(Outcome.accepted(uow.context.message_id))


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


async def stored_order(order_id: str) -> Order:
    async with unit_of_work() as uow:
        order = await uow.repository(Order).get(order_id)
    assert order is not None
    return order


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
    async with unit_of_work() as uow:
        order = Order.create(order_id, "alice", "alice-eur", "EUR")
        for sku, quantity, price in lines:
            order.add_line(sku, quantity, eur(price))
        uow.repository(Order).add(order)
        await commit(uow)
    return order_id


async def change(order_id: str, *changes: Any) -> None:
    async with unit_of_work() as uow:
        order = await uow.repository(Order).get(order_id)
        assert order is not None
        for method, *arguments in changes:
            getattr(order, method)(*arguments)
        await commit(uow)


async def saga_record(order_id: str) -> tuple[str, str]:
    """What the saga machinery reads of an order: its ``status`` and ``reason`` columns."""
    async with unit_of_work() as uow:
        db = uow._db  # type: ignore[attr-defined]
        query = sql.dialect_sql(db, "SELECT status, reason FROM orders WHERE id = ?")
        _, rows = await db.execute_query(query, [order_id])
    return str(rows[0]["status"]), str(rows[0]["reason"])


async def test_a_placed_order_loads_back_with_its_priced_lines_in_order(
    orders_database: str,
) -> None:
    order_id = await a_draft(("TEA-7", 1, "4.50"), ("MUG-1", 10, "2.00"), ("PEN-3", 50, "0.99"))
    await change(order_id, ("place", Pricing()))

    order = await stored_order(order_id)
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

    order = await stored_order(order_id)
    assert order.total is None
    assert lines_of(order) == [("MUG-1", 2, "2.00", "0.00", "4.00")]


async def test_changed_and_removed_lines_are_rewritten_with_the_order(
    orders_database: str,
) -> None:
    order_id = await a_draft(("MUG-1", 1, "2.00"), ("TEA-7", 1, "4.50"), ("PEN-3", 1, "0.99"))
    await change(order_id, ("remove_line", "MUG-1"), ("update_line", "PEN-3", 12))

    order = await stored_order(order_id)
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

    requested = await stored_order(cancelled)
    assert (requested.cancel_requested, requested.reason) == (True, "changed my mind")
    assert (await stored_order(charging)).charging is True

    await change(cancelled, ("end", "compensated", "stock released"))
    assert await saga_record(cancelled) == ("cancelled", "changed my mind")
    await change(charging, ("end", "needs_operator", "the charge timed out"))
    assert await saga_record(charging) == ("needs_operator", "the charge timed out")


async def test_a_stale_copy_writes_none_of_its_lines(orders_database: str) -> None:
    order_id = await a_draft(("MUG-1", 1, "2.00"), ("TEA-7", 1, "4.50"))
    async with unit_of_work() as uow:
        stale = await uow.repository(Order).get(order_id)
        assert stale is not None
        db = uow._db  # type: ignore[attr-defined]
        # Someone else's change, committed since this copy was read.
        await db.execute_query(
            sql.dialect_sql(db, "UPDATE orders SET version = version + 1 WHERE id = ?"),
            [order_id],
        )
        stale.remove_line("MUG-1")
        with pytest.raises(ConcurrencyConflict):
            await commit(uow)

    assert [sku for sku, *_ in lines_of(await stored_order(order_id))] == ["MUG-1", "TEA-7"]


def orders_cli(url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``python -m worker orders ...`` on the database at ``url``, as a user runs it."""
    listed = any(context.name == "orders" for context in contexts(extra=()).all)
    extra = "" if listed else "worker.contexts.orders:CONTEXT"
    env = {**os.environ, "DATABASE_URL": url, "EXTRA_CONTEXTS": extra}
    command = [sys.executable, "-m", "worker", "orders", *arguments]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


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
    config = database.tortoise_config(Settings(database_url="sqlite://:memory:"), WITH_ORDERS)
    await Tortoise.init(config=config, init_connections=False)
    try:
        assert Tortoise.apps is not None
        changes = await MigrationAutodetector(Tortoise.apps, config["apps"]).changes()
        owned = list(Tortoise.apps["orders"])
    finally:
        await database.close()
    assert [change.name for change in changes] == []
    assert owned == ["OrderRow", "OrderLineRow"]
