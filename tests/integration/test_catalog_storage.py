"""Products and their reservations on SQLite and PostgreSQL, through the real unit of work;
the catalog's check on hand-made rows; and the ``products`` CLI group."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.catalog.product import Product, ProductStatus, Reservation
from domain.shared.money import Money
from tests.integration.context_storage import Storage, database_fixture, worker_cli
from tests.wiring import CONTEXTS
from worker.bus.messagebus import MessageBus
from worker.bus.outcomes import Outcome, Status
from worker.bus.unit_of_work import MessageContext
from worker.contexts.catalog.checks import CatalogCheck
from worker.contexts.catalog.persistence import ProductRow, ReservationRow
from worker.ops.check.engine import run_checks
from worker.ops.check.sources import snapshot
from worker.persistence.models import OutboxRow

pytestmark = pytest.mark.integration

storage = Storage(CONTEXTS)
catalog_database = database_fixture("catalog", CONTEXTS)
LATER = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


def a_sku() -> str:
    return f"SKU-{uuid.uuid4().hex[:8].upper()}"


async def a_reserved_product(now: datetime) -> str:
    """Ten on hand; o-1 holds 3, o-2 holds 2, and o-3's 4 expired an hour ago."""
    sku = a_sku()
    async with storage.unit_of_work() as uow:
        product = Product.add(sku, "Widget", Money.of("12.5", "EUR"), stock=10)
        product.reserve("o-3", 4, now - timedelta(hours=2), timedelta(hours=1))
        product.reserve("o-1", 3, now, timedelta(hours=1))
        product.reserve("o-2", 2, now, timedelta(hours=1))
        uow.repository(Product).add(product)
        await storage.commit(uow)
    return sku


async def test_a_product_loads_back_with_every_reservation(catalog_database: str) -> None:
    now = datetime.now(UTC)
    product = await storage.stored(Product, await a_reserved_product(now))

    assert (product.name, product.price, product.status) == (
        "Widget",
        Money.of("12.50", "EUR"),
        ProductStatus.ACTIVE,
    )
    assert (product.on_hand, product.version, product.reserved(now)) == (10, 4, 5)
    assert dict(product.reservations) == {
        "o-1": Reservation("o-1", 3, now + timedelta(hours=1)),
        "o-2": Reservation("o-2", 2, now + timedelta(hours=1)),
        "o-3": Reservation("o-3", 4, now - timedelta(hours=1)),
    }
    assert all(r.expires_at.tzinfo is not None for r in product.reservations.values())
    assert product.created_at is not None  # ProductAdded's time, the clock's
    assert product.updated_at == now  # the time of its latest event, o-2's reservation


async def test_committed_and_released_reservations_leave_no_row(catalog_database: str) -> None:
    now = datetime.now(UTC)
    sku = await a_reserved_product(now)
    async with storage.unit_of_work() as uow:
        product = await uow.repository(Product).get(sku)
        assert product is not None
        product.commit("o-1", 3, now)
        product.release("o-3", now)
        await storage.commit(uow)

    product = await storage.stored(Product, sku)
    assert (product.on_hand, sorted(product.reservations), product.version) == (7, ["o-2"], 6)
    assert product.updated_at == now
    assert await ReservationRow.filter(sku=sku).count() == 1


async def test_the_version_check_keeps_the_reservations_of_a_stale_copy_out(
    catalog_database: str,
) -> None:
    now = datetime.now(UTC)
    sku = await a_reserved_product(now)
    await storage.commit_a_stale_copy(
        Product, sku, "products", lambda stale: stale.release("o-1", now)
    )

    assert sorted((await storage.stored(Product, sku)).reservations) == ["o-1", "o-2", "o-3"]


async def test_the_bus_runs_the_catalog_commands_and_their_events_reach_the_outbox(
    catalog_database: str,
) -> None:
    bus = MessageBus(storage.uow_factory, CONTEXTS.handlers)
    sku = a_sku()

    async def send(command_name: str, /, **fields: object) -> Outcome:
        command = CONTEXTS.commands.parse(command_name, fields, internal=True)
        return await bus.handle(command, MessageContext(uuid.uuid4().hex, command_name))

    fields = {"sku": sku, "name": "Gadget", "price": "700", "currency": "JPY", "stock": 5}
    assert (await send("AddProduct", **fields)).status is Status.ACCEPTED
    assert (
        await send("ReserveStock", sku=sku, order_id="o-9", quantity=5)
    ).status is Status.ACCEPTED
    refused = await send("ReserveStock", sku=sku, order_id="o-8", quantity=1)
    assert refused.error is not None and refused.error.code == "out_of_stock"
    assert (
        await send("CommitStock", sku=sku, order_id="o-9", quantity=5)
    ).status is Status.ACCEPTED
    assert (await storage.stored(Product, sku)).on_hand == 0
    assert (
        await send("ReturnStock", sku=sku, order_id="o-9", quantity=2)
    ).status is Status.ACCEPTED

    rows = await OutboxRow.filter(aggregate_id=sku).order_by("aggregate_version")
    assert [row.event_type for row in rows] == [
        "catalog.ProductAdded",
        "catalog.StockReserved",
        "catalog.StockCommitted",
        "catalog.StockReturned",
    ]
    assert json.loads(rows[0].payload)["name"] == "Gadget"
    assert json.loads(rows[2].payload)["on_hand"] == 0
    assert json.loads(rows[3].payload) | {"occurred_at": None} == {
        "sku": sku,
        "order_id": "o-9",
        "quantity": 2,
        "on_hand": 2,
        "occurred_at": None,
    }
    assert (await storage.stored(Product, sku)).on_hand == 2


async def test_the_check_finds_negative_and_overreserved_stock_in_hand_made_rows(
    catalog_database: str,
) -> None:
    now = datetime.now(UTC)
    fine, negative, over = a_sku(), a_sku(), a_sku()
    for sku, on_hand in ((fine, 5), (negative, -3), (over, 4)):
        await ProductRow.create(
            id=sku,
            name="Made by hand",
            price="1.00",
            currency="EUR",
            status="active",
            on_hand=on_hand,
            version=1,
            created_at=now,
            updated_at=now,
        )
    for sku, order_id, quantity, expires_at in (
        (fine, "o-1", 5, LATER),
        (fine, "o-2", 9, now - timedelta(minutes=1)),  # expired: holds nothing
        (over, "o-1", 3, LATER),
        (over, "o-2", 2, LATER),
    ):
        await ReservationRow.create(
            sku=sku, order_id=order_id, quantity=quantity, expires_at=expires_at
        )

    report = await run_checks([CatalogCheck(clock=lambda: now)], snapshot, None)

    ours = {fine, negative, over}
    assert sorted(v.line() for v in report.violations if v.subject in ours) == [
        f"negative_stock: {negative}: -3 on hand",
        f"stock_overreserved: {over}: 5 reserved by unexpired reservations, 4 on hand",
    ]
    assert report.figures["catalog"]["products"] >= 3  # type: ignore[index]


# --- the CLI, in a process of its own ---------------------------------------------------------


def cli_url(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'cli.sqlite3'}"


def seed_by_hand(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO products (id, name, price, currency, status, on_hand, version,"
            " created_at, updated_at) VALUES ('A-1', 'Anvil', '99.5', 'EUR', 'active', 7, 3,"
            " '2030-01-01T00:00:00+00:00', '2030-01-01T00:00:00+00:00')"
        )
        for order_id, quantity, expires_at in (
            ("o-1", 2, LATER),
            ("o-2", 4, datetime(2020, 1, 1, tzinfo=UTC)),
        ):
            db.execute(
                "INSERT INTO product_reservations (sku, order_id, quantity, expires_at)"
                " VALUES ('A-1', ?, ?, ?)",
                (order_id, quantity, expires_at.isoformat()),
            )


def test_products_show_and_list_print_the_stock(tmp_path: Path) -> None:
    url = cli_url(tmp_path)
    assert worker_cli(url, "db", "migrate").returncode == 0
    seed_by_hand(tmp_path / "cli.sqlite3")

    shown = worker_cli(url, "products", "show", "A-1", "--json")
    listed = worker_cli(url, "products", "list", "--json")
    line = worker_cli(url, "products", "show", "A-1")

    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {
        "sku": "A-1",
        "name": "Anvil",
        "price": "99.50",
        "currency": "EUR",
        "status": "active",
        "on_hand": 7,
        "reserved": 2,
        "available": 5,
        "version": 3,
    }
    assert json.loads(listed.stdout) == [json.loads(shown.stdout)]
    assert "on hand 7, reserved 2, available 5" in line.stdout


def test_products_show_of_an_unknown_sku_exits_1_with_one_line(tmp_path: Path) -> None:
    url = cli_url(tmp_path)
    assert worker_cli(url, "db", "migrate").returncode == 0

    unknown = worker_cli(url, "products", "show", "NOPE")
    malformed = worker_cli(url, "products", "show", "a/b")

    assert (unknown.returncode, unknown.stderr) == (1, "error: no product 'NOPE'\n")
    assert malformed.returncode == 2
    assert (
        malformed.stderr.startswith("error: invalid sku 'a/b'")
        and malformed.stderr.count("\n") == 1
    )


def test_check_reports_the_catalog_beside_the_other_contexts(tmp_path: Path) -> None:
    url = cli_url(tmp_path)
    assert worker_cli(url, "db", "migrate").returncode == 0
    seed_by_hand(tmp_path / "cli.sqlite3")

    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:  # the order that holds the stock
        db.execute(
            "INSERT INTO orders (id, customer_id, payment_account_id, currency, status, reason,"
            " charging, cancel_requested, version, created_at, updated_at) VALUES ('o-1', 'c-1',"
            " 'acc-1', 'EUR', 'placed', '', 0, 0, 2, '2030-01-01T00:00:00+00:00',"
            " '2030-01-01T00:00:00+00:00')"
        )

    done = worker_cli(url, "check", "--skip-sagas", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["catalog"] == {"products": 1, "on_hand": 7, "reserved": 2}
