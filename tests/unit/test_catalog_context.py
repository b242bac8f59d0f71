"""The catalog context over the in-memory fakes: its commands on the wire, its handlers
through the bus, its read port, its setting and its check's rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from domain.catalog.events import (
    ProductAdded,
    StockCommitted,
    StockReleased,
    StockReserved,
    StockReturned,
)
from domain.catalog.product import Product, ProductStatus, Reservation
from domain.shared.model import AggregateRoot
from domain.shared.money import Money
from tests.fakes import FakeStore, FakeTable, FakeUnitOfWorkFactory
from worker.bus.commands import InvalidCommand
from worker.bus.messagebus import MessageBus
from worker.bus.outcomes import Outcome, Status
from worker.bus.unit_of_work import MessageContext
from worker.context import Contexts
from worker.contexts.catalog import CONTEXT
from worker.contexts.catalog.checks import stock_violations
from worker.contexts.catalog.published import HeldStock, ProductCatalog, ProductView, StockFacts
from worker.contexts.catalog.settings import CatalogSettings, reservation_hold

CONTEXTS = Contexts([CONTEXT])
COMMANDS = CONTEXTS.commands


def product_row(product: Product) -> dict[str, Any]:
    return {
        "name": product.name,
        "price": product.price,
        "status": product.status.value,
        "on_hand": product.on_hand,
        "reservations": dict(product.reservations),
        "created_at": product.created_at,
    }


def product_from_row(sku: str, row: dict[str, Any]) -> Product:
    return Product(
        sku,
        row["name"],
        row["price"],
        ProductStatus(row["status"]),
        row["on_hand"],
        row["reservations"],
        row["version"],
        row["created_at"],
    )


TABLES: dict[type[AggregateRoot], FakeTable] = {
    Product: ("products", product_row, product_from_row)
}


class Catalog:
    """The catalog's handlers behind the real bus, over a fake store."""

    def __init__(self) -> None:
        self.store = FakeStore()
        self.uows = FakeUnitOfWorkFactory(
            self.store, tables=TABLES, read_ports=dict(CONTEXTS.read_ports)
        )
        self.bus = MessageBus(self.uows, CONTEXTS.handlers)

    async def send(self, command_name: str, /, **fields: object) -> Outcome:
        return await self.send_as(uuid.uuid4().hex, command_name, **fields)

    async def send_as(self, message_id: str, command_name: str, /, **fields: object) -> Outcome:
        command = COMMANDS.parse(command_name, fields, internal=True)
        return await self.bus.handle(command, MessageContext(message_id, command_name))

    async def accepted(self, command_name: str, /, **fields: object) -> None:
        outcome = await self.send(command_name, **fields)
        assert outcome.status is Status.ACCEPTED, outcome

    async def refused(self, command_name: str, /, **fields: object) -> str:
        """The rejection's code; the refused command changed nothing."""
        rows, events = dict(self.store.table("products")), len(self.store.outbox)
        outcome = await self.send(command_name, **fields)
        assert outcome.status is Status.REJECTED and outcome.error is not None, outcome
        assert (dict(self.store.table("products")), len(self.store.outbox)) == (rows, events)
        return outcome.error.code

    def row(self, sku: str) -> dict[str, Any]:
        return self.store.table("products")[sku]

    def events(self) -> list[object]:
        return [event for event, _ in self.store.outbox]


async def a_catalog(stock: int = 10) -> Catalog:
    catalog = Catalog()
    await catalog.accepted(
        "AddProduct", sku="SKU-1", name="Widget", price="2.50", currency="EUR", stock=stock
    )
    return catalog


# --- the declaration and the wire contract ---------------------------------------------------


def test_the_context_declares_its_queue_cli_group_setting_and_check() -> None:
    assert CONTEXT.queue == "catalog.commands"
    assert CONTEXT.cli_group == "products"
    assert CONTEXT.settings is CatalogSettings
    assert [check.name for check in CONTEXTS.checks] == ["catalog"]
    assert sorted(COMMANDS.public) == ["AddProduct", "ChangePrice", "DiscontinueProduct", "Restock"]
    assert sorted(set(COMMANDS.all) - set(COMMANDS.public)) == [
        "CommitStock",
        "ReleaseStock",
        "ReserveStock",
        "ReturnStock",
    ]
    assert {event.type_name() for event in CONTEXT.events} >= {
        "catalog.StockReserved",
        "catalog.StockReturned",
    }


def test_identity_fields_name_the_product_and_for_the_saga_also_the_order() -> None:
    assert COMMANDS.all["Restock"].identity_fields == ("sku",)
    for name in ("ReserveStock", "ReleaseStock", "CommitStock", "ReturnStock"):
        assert COMMANDS.all[name].identity_fields == ("sku", "order_id")


def test_the_saga_commands_are_not_for_clients() -> None:
    with pytest.raises(InvalidCommand) as refused:
        COMMANDS.parse("ReserveStock", {"sku": "SKU-1", "order_id": "o-1", "quantity": 1})
    assert refused.value.code == "unknown_command"


def test_add_product_is_named_name_on_the_wire_and_serialised_so() -> None:
    command = COMMANDS.parse(
        "AddProduct", {"sku": "A-1", "name": "Widget", "price": "1", "currency": "JPY"}
    )

    assert command.name() == "AddProduct"
    assert command.model_dump_json() == (
        '{"sku":"A-1","currency":"JPY","price":"1","name":"Widget","stock":0}'
    )
    assert "name" in COMMANDS.json_schemas()["AddProduct"]["properties"]


BASE = {"sku": "SKU-1", "name": "Widget", "price": "2.50", "currency": "EUR"}


@pytest.mark.parametrize(
    ("name", "fields", "field"),
    [
        ("AddProduct", {**BASE, "sku": "sku-1"}, "sku"),
        ("AddProduct", {**BASE, "name": " "}, "name"),
        ("AddProduct", {**BASE, "product_name": "x"}, "product_name"),
        ("AddProduct", {**BASE, "price": 2.5}, "price"),
        ("AddProduct", {**BASE, "price": "0.00"}, "price"),
        ("AddProduct", {**BASE, "price": "1.5", "currency": "JPY"}, "price"),
        ("AddProduct", {**BASE, "currency": "XXX"}, "currency"),
        ("AddProduct", {**BASE, "stock": "3"}, "stock"),
        ("AddProduct", {**BASE, "stock": -1}, "stock"),
        ("AddProduct", {**BASE, "stock": True}, "stock"),
        ("Restock", {"sku": "SKU-1", "quantity": 0}, "quantity"),
        ("Restock", {"sku": "SKU-1", "quantity": 1_000_001}, "quantity"),
        ("ChangePrice", {"sku": "SKU-1", "price": "1.001", "currency": "EUR"}, "price"),
        ("ReserveStock", {"sku": "SKU-1", "order_id": "o-1", "quantity": 1001}, "quantity"),
        ("ReserveStock", {"sku": "SKU-1", "order_id": "o/1", "quantity": 1}, "order_id"),
        ("CommitStock", {"sku": "SKU-1", "order_id": "o-1", "quantity": 1.0}, "quantity"),
        ("ReturnStock", {"sku": "SKU-1", "order_id": "o-1", "quantity": 0}, "quantity"),
        ("ReturnStock", {"sku": "SKU-1", "order_id": "o-1"}, "quantity"),
    ],
)
def test_a_malformed_command_is_refused_naming_the_field(
    name: str, fields: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidCommand) as refused:
        COMMANDS.parse(name, fields, internal=True)

    assert refused.value.code == "schema_validation_failed"
    assert f"{name}: {field}" in refused.value.message


# --- the handlers -------------------------------------------------------------------------------


async def test_adding_a_product_stores_it_and_publishes_product_added() -> None:
    catalog = await a_catalog(stock=7)

    row = catalog.row("SKU-1")
    assert (row["name"], row["price"], row["on_hand"], row["version"]) == (
        "Widget",
        Money.of("2.5", "EUR"),
        7,
        1,
    )
    [added] = catalog.events()
    assert isinstance(added, ProductAdded)


async def test_adding_a_product_twice_is_product_already_exists() -> None:
    catalog = await a_catalog()

    code = await catalog.refused("AddProduct", **BASE)

    assert code == "product_already_exists"


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("Restock", {"quantity": 1}),
        ("ChangePrice", {"price": "1", "currency": "EUR"}),
        ("DiscontinueProduct", {}),
        ("ReserveStock", {"order_id": "o-1", "quantity": 1}),
        ("ReleaseStock", {"order_id": "o-1"}),
        ("CommitStock", {"order_id": "o-1", "quantity": 1}),
        ("ReturnStock", {"order_id": "o-1", "quantity": 1}),
    ],
)
async def test_every_command_on_an_unknown_sku_is_product_not_found(
    name: str, fields: dict[str, object]
) -> None:
    catalog = await a_catalog()

    assert await catalog.refused(name, sku="NOPE", **fields) == "product_not_found"


async def test_restock_reprice_and_discontinue_change_the_stored_product() -> None:
    catalog = await a_catalog(stock=10)

    await catalog.accepted("Restock", sku="SKU-1", quantity=5)
    await catalog.accepted("ChangePrice", sku="SKU-1", price="3.10", currency="EUR")
    await catalog.accepted("DiscontinueProduct", sku="SKU-1")

    row = catalog.row("SKU-1")
    assert (row["on_hand"], row["price"], row["status"], row["version"]) == (
        15,
        Money.of("3.1", "EUR"),
        "discontinued",
        4,
    )
    assert await catalog.refused("DiscontinueProduct", sku="SKU-1") == "product_discontinued"


async def test_a_price_in_another_currency_is_currency_mismatch() -> None:
    catalog = await a_catalog()

    assert (
        await catalog.refused("ChangePrice", sku="SKU-1", price="3", currency="USD")
        == "currency_mismatch"
    )


async def test_a_reservation_holds_for_the_configured_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_RESERVATION_HOLD_SECONDS", "60")
    catalog = await a_catalog(stock=10)
    before = datetime.now(UTC)

    await catalog.accepted("ReserveStock", sku="SKU-1", order_id="o-1", quantity=4)

    held = catalog.row("SKU-1")["reservations"]["o-1"]
    assert held.quantity == 4
    assert (
        before + timedelta(seconds=60)
        <= held.expires_at
        <= datetime.now(UTC) + timedelta(seconds=60)
    )
    reserved = catalog.events()[-1]
    assert (
        isinstance(reserved, StockReserved) and reserved.expires_at == held.expires_at.isoformat()
    )


async def test_reserving_more_than_is_free_is_out_of_stock() -> None:
    catalog = await a_catalog(stock=5)
    await catalog.accepted("ReserveStock", sku="SKU-1", order_id="o-1", quantity=4)

    assert (
        await catalog.refused("ReserveStock", sku="SKU-1", order_id="o-2", quantity=2)
        == "out_of_stock"
    )


async def test_a_discontinued_product_takes_no_reservation() -> None:
    catalog = await a_catalog()
    await catalog.accepted("DiscontinueProduct", sku="SKU-1")

    code = await catalog.refused("ReserveStock", sku="SKU-1", order_id="o-1", quantity=1)

    assert code == "product_discontinued"


async def test_a_discontinued_product_still_renews_an_orders_live_reservation() -> None:
    catalog = await a_catalog()
    await catalog.accepted("ReserveStock", sku="SKU-1", order_id="o-1", quantity=4)
    await catalog.accepted("DiscontinueProduct", sku="SKU-1")

    await catalog.accepted("ReserveStock", sku="SKU-1", order_id="o-1", quantity=4)

    assert isinstance(catalog.events()[-1], StockReserved)
    more = await catalog.refused("ReserveStock", sku="SKU-1", order_id="o-1", quantity=5)
    other = await catalog.refused("ReserveStock", sku="SKU-1", order_id="o-2", quantity=1)
    assert more == other == "product_discontinued"


async def test_reserve_then_commit_takes_the_units_out_of_stock() -> None:
    catalog = await a_catalog(stock=10)

    await catalog.accepted("ReserveStock", sku="SKU-1", order_id="o-1", quantity=4)
    await catalog.accepted("CommitStock", sku="SKU-1", order_id="o-1", quantity=4)

    row = catalog.row("SKU-1")
    assert (row["on_hand"], row["reservations"]) == (6, {})
    assert isinstance(catalog.events()[-1], StockCommitted)


async def test_releasing_twice_records_one_release() -> None:
    catalog = await a_catalog()
    await catalog.accepted("ReserveStock", sku="SKU-1", order_id="o-1", quantity=4)

    await catalog.accepted("ReleaseStock", sku="SKU-1", order_id="o-1")
    await catalog.accepted("ReleaseStock", sku="SKU-1", order_id="o-1")

    assert [type(e) for e in catalog.events()].count(StockReleased) == 1
    assert catalog.row("SKU-1")["version"] == 3


async def test_return_stock_puts_committed_units_back_once_per_message_id() -> None:
    catalog = await a_catalog(stock=10)
    await catalog.accepted("ReserveStock", sku="SKU-1", order_id="o-1", quantity=4)
    await catalog.accepted("CommitStock", sku="SKU-1", order_id="o-1", quantity=4)

    once = await catalog.send_as("ret-1", "ReturnStock", sku="SKU-1", order_id="o-1", quantity=4)
    again = await catalog.send_as("ret-1", "ReturnStock", sku="SKU-1", order_id="o-1", quantity=4)

    assert once.status is again.status is Status.ACCEPTED
    assert again.duplicate
    row = catalog.row("SKU-1")
    assert (row["on_hand"], row["reservations"], row["version"]) == (10, {}, 4)
    returned = catalog.events()[-1]
    assert isinstance(returned, StockReturned)
    assert [type(e) for e in catalog.events()].count(StockReturned) == 1
    assert returned.payload() == {"sku": "SKU-1", "order_id": "o-1", "quantity": 4, "on_hand": 10}


def expire(catalog: Catalog, order_id: str, quantity: int) -> None:
    """As if the order reserved ``quantity`` units an hour ago and the hold ran out."""
    gone = Reservation(order_id, quantity, datetime.now(UTC) - timedelta(hours=1))
    catalog.row("SKU-1")["reservations"][order_id] = gone


async def test_committing_an_expired_reservation_without_free_stock_is_reservation_expired() -> (
    None
):
    catalog = await a_catalog(stock=4)
    expire(catalog, "o-1", 4)
    await catalog.accepted("ReserveStock", sku="SKU-1", order_id="o-2", quantity=4)

    code = await catalog.refused("CommitStock", sku="SKU-1", order_id="o-1", quantity=4)

    assert code == "reservation_expired"


async def test_committing_an_expired_reservation_takes_free_stock_while_there_is_some() -> None:
    catalog = await a_catalog(stock=4)
    expire(catalog, "o-1", 4)

    await catalog.accepted("CommitStock", sku="SKU-1", order_id="o-1", quantity=4)

    assert (catalog.row("SKU-1")["on_hand"], catalog.row("SKU-1")["reservations"]) == (0, {})


# --- the read port, the setting, the check's rules ------------------------------------------------


async def test_the_product_catalog_port_shows_price_and_status_or_nothing() -> None:
    catalog = await a_catalog()
    uow = catalog.uows(MessageContext("read", "test"))

    port = uow.read_port(ProductCatalog)

    assert await port.product("SKU-1") == ProductView("SKU-1", "Widget", "2.50", "EUR", "active")
    assert await port.product("NOPE") is None


def test_the_hold_defaults_to_fifteen_minutes_and_is_at_least_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CATALOG_RESERVATION_HOLD_SECONDS", raising=False)
    assert reservation_hold() == timedelta(seconds=900)
    monkeypatch.setenv("CATALOG_RESERVATION_HOLD_SECONDS", "0")
    with pytest.raises(ValidationError):
        reservation_hold()


NOW = datetime(2030, 1, 1, tzinfo=UTC)


def held(quantity: int, minutes: int) -> HeldStock:
    return HeldStock(f"o-{quantity}-{minutes}", quantity, NOW + timedelta(minutes=minutes))


def test_the_check_finds_negative_stock_and_more_reserved_than_on_hand() -> None:
    stock = [
        StockFacts("FINE", 5, (held(3, 10), held(2, 10), held(9, -1))),
        StockFacts("NEGATIVE", -2),
        StockFacts("OVER", 5, (held(3, 10), held(3, 1))),
    ]

    found = [v.line() for v in stock_violations(stock, NOW)]

    assert found == [
        "negative_stock: NEGATIVE: -2 on hand",
        "stock_overreserved: OVER: 6 reserved by unexpired reservations, 5 on hand",
    ]
