"""The orders context's commands and handlers, through the bus over the fakes.

What an order reads of other contexts (the customer's payment account, its currency,
a product's price and status) comes from hand-written fake read ports.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from domain.orders.order import Order, OrderStatus
from tests.fakes import FakeUnitOfWorkFactory
from worker.bus.commands import Command, InvalidCommand
from worker.bus.messagebus import MessageBus
from worker.bus.outcomes import Outcome, Status
from worker.bus.registry import CommandRegistry
from worker.bus.unit_of_work import MessageContext, UnitOfWork
from worker.contexts.accounts.published import AccountDirectory
from worker.contexts.catalog.published import ProductCatalog, ProductView
from worker.contexts.customers.published import CustomerDirectory
from worker.contexts.orders import commands
from worker.contexts.orders.handlers import HANDLERS
from worker.contexts.orders.persistence import (
    OrderLineRow,
    line_rows,
    order_fields,
    order_to_domain,
)

REGISTRY = CommandRegistry({command: "orders.commands" for command in HANDLERS})

CUSTOMERS = {"alice": "alice-eur", "bob": "bob-gone"}
ACCOUNTS = {"alice-eur": "EUR"}
PRODUCTS = {
    "MUG-1": ProductView("MUG-1", "Mug", "2.00", "EUR", "active"),
    "TEA-7": ProductView("TEA-7", "Tea", "4.50", "EUR", "active"),
    "OLD-1": ProductView("OLD-1", "Old", "1.00", "EUR", "discontinued"),
    "YEN-1": ProductView("YEN-1", "Fan", "300", "JPY", "active"),
}


class FakeCustomers:
    def __init__(self, _uow: UnitOfWork) -> None:
        pass

    async def payment_account_of(self, customer_id: str) -> str | None:
        return CUSTOMERS.get(customer_id)


class FakeAccounts:
    def __init__(self, _uow: UnitOfWork) -> None:
        pass

    async def currency_of(self, account_id: str) -> str | None:
        return ACCOUNTS.get(account_id)


class FakeCatalog:
    def __init__(self, _uow: UnitOfWork) -> None:
        pass

    async def product(self, sku: str) -> ProductView | None:
        return PRODUCTS.get(sku)


def order_row(order: Order) -> dict[str, Any]:
    """The fake stores what the real store would: the row's columns and the line rows."""
    return {**order_fields(order), "lines": line_rows(order)}


def order_from_row(id: str, row: dict[str, Any]) -> Order:
    columns = {name: value for name, value in row.items() if name != "lines"}
    lines: Any = [SimpleNamespace(order_id=id, **line) for line in row["lines"]]
    root: Any = SimpleNamespace(id=id, **columns)
    return order_to_domain(root, {OrderLineRow: lines})


def a_bus() -> tuple[MessageBus, FakeUnitOfWorkFactory]:
    factory = FakeUnitOfWorkFactory(
        tables={Order: ("orders", order_row, order_from_row)},
        read_ports={
            CustomerDirectory: FakeCustomers,
            AccountDirectory: FakeAccounts,
            ProductCatalog: FakeCatalog,
        },
    )
    return MessageBus(factory, HANDLERS), factory


async def send(bus: MessageBus, command: Command) -> Outcome:
    return await bus.handle(command, MessageContext(f"m-{uuid.uuid4().hex}", command.name()))


def refusal(outcome: Outcome) -> str:
    assert outcome.status is Status.REJECTED, outcome
    assert outcome.error is not None
    return outcome.error.code


async def accept(bus: MessageBus, *sent: Command) -> None:
    for command in sent:
        outcome = await send(bus, command)
        assert outcome.status is Status.ACCEPTED, outcome


def stored(factory: FakeUnitOfWorkFactory, order_id: str = "o-1") -> Order:
    return order_from_row(order_id, factory.store.table("orders")[order_id])


def events_of(factory: FakeUnitOfWorkFactory) -> list[str]:
    return [event.name() for event, _ in factory.store.outbox]


async def a_draft(*lines: tuple[str, int]) -> tuple[MessageBus, FakeUnitOfWorkFactory]:
    bus, factory = a_bus()
    await accept(bus, commands.CreateOrder(order_id="o-1", customer_id="alice"))
    for sku, quantity in lines:
        await accept(bus, commands.AddLineItem(order_id="o-1", sku=sku, quantity=quantity))
    return bus, factory


async def a_placed_order() -> tuple[MessageBus, FakeUnitOfWorkFactory]:
    bus, factory = await a_draft(("MUG-1", 10), ("TEA-7", 1))
    await accept(bus, commands.PlaceOrder(order_id="o-1"))
    return bus, factory


# --- the commands: the wire contract ----------------------------------------------------------


@pytest.mark.parametrize("quantity", [0, 1001, 1.0, True, "2", -1])
def test_a_quantity_is_a_json_integer_from_1_to_1000(quantity: object) -> None:
    with pytest.raises(InvalidCommand) as raised:
        REGISTRY.parse("AddLineItem", {"order_id": "o-1", "sku": "MUG-1", "quantity": quantity})
    assert raised.value.code == "schema_validation_failed"
    assert "quantity" in raised.value.message


@pytest.mark.parametrize("sku", ["mug-1", "-MUG", "MUG 1", "M/1", "A" * 33, ""])
def test_a_sku_is_upper_case_letters_digits_and_dashes(sku: str) -> None:
    with pytest.raises(InvalidCommand) as raised:
        REGISTRY.parse("RemoveLineItem", {"order_id": "o-1", "sku": sku})
    assert "sku" in raised.value.message


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_cancellation_needs_a_reason_of_1_to_500_characters_not_blank(reason: str) -> None:
    with pytest.raises(InvalidCommand) as raised:
        REGISTRY.parse("CancelOrder", {"order_id": "o-1", "reason": reason})
    assert "reason" in raised.value.message


def test_the_public_commands_name_their_order_and_refuse_unknown_fields() -> None:
    body = {"order_id": "o-1", "customer_id": "alice"}
    created = REGISTRY.parse("CreateOrder", body)
    assert created.aggregate_id == "o-1"
    assert type(created).identity_fields == ("order_id",)
    with pytest.raises(InvalidCommand):
        REGISTRY.parse("CreateOrder", {**body, "currency": "EUR"})
    assert sorted(REGISTRY.public) == [
        "AddLineItem",
        "CancelOrder",
        "CreateOrder",
        "PlaceOrder",
        "RemoveLineItem",
        "UpdateLineItem",
    ]


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("StartOrderCharge", {"order_id": "o-1"}),
        ("RecordOrderOutcome", {"order_id": "o-1", "state": "completed"}),
    ],
)
def test_the_sagas_own_commands_cannot_come_from_outside(name: str, body: dict[str, Any]) -> None:
    with pytest.raises(InvalidCommand) as raised:
        REGISTRY.parse(name, body)
    assert raised.value.code == "unknown_command"
    assert REGISTRY.parse(name, body, internal=True).aggregate_id == "o-1"


def test_an_outcome_is_one_of_the_sagas_states() -> None:
    with pytest.raises(InvalidCommand):
        REGISTRY.parse(
            "RecordOrderOutcome", {"order_id": "o-1", "state": "confirmed"}, internal=True
        )


# --- creating an order --------------------------------------------------------------------------


async def test_an_order_is_created_in_the_currency_of_the_account_its_customer_pays_with() -> None:
    _, factory = await a_draft()

    order = stored(factory)
    assert (order.customer_id, order.payment_account_id, order.currency) == (
        "alice",
        "alice-eur",
        "EUR",
    )
    assert (order.status, order.version, order.lines) == (OrderStatus.DRAFT, 1, ())
    [(created, _)] = factory.store.outbox
    assert created.payload() == {
        "order_id": "o-1",
        "customer_id": "alice",
        "payment_account_id": "alice-eur",
        "currency": "EUR",
    }


@pytest.mark.parametrize(
    ("customer_id", "code"), [("carol", "customer_not_found"), ("bob", "account_not_found")]
)
async def test_an_order_needs_a_known_customer_whose_payment_account_exists(
    customer_id: str, code: str
) -> None:
    bus, factory = a_bus()
    outcome = await send(bus, commands.CreateOrder(order_id="o-1", customer_id=customer_id))

    assert refusal(outcome) == code
    assert factory.store.table("orders") == {}


async def test_an_order_id_is_used_once() -> None:
    bus, factory = await a_draft()
    outcome = await send(bus, commands.CreateOrder(order_id="o-1", customer_id="alice"))

    assert refusal(outcome) == "order_already_exists"
    assert events_of(factory) == ["OrderCreated"]


# --- lines ------------------------------------------------------------------------------------


async def test_a_line_is_added_at_the_catalogs_current_price() -> None:
    _, factory = await a_draft(("MUG-1", 2), ("TEA-7", 1), ("MUG-1", 3))

    lines = [
        (line.sku, line.quantity, line.unit_price.to_string()) for line in stored(factory).lines
    ]
    assert lines == [("MUG-1", 5, "2.00"), ("TEA-7", 1, "4.50")]
    assert factory.store.outbox[1][0].payload() == {
        "order_id": "o-1",
        "sku": "MUG-1",
        "quantity": 2,
        "line_quantity": 2,
        "unit_price": "2.00",
        "currency": "EUR",
    }


@pytest.mark.parametrize(
    ("sku", "code"),
    [
        ("NOPE-1", "product_not_found"),
        ("OLD-1", "product_discontinued"),
        ("YEN-1", "currency_mismatch"),
    ],
)
async def test_a_line_needs_a_product_on_sale_in_the_orders_currency(sku: str, code: str) -> None:
    bus, factory = await a_draft(("MUG-1", 1))
    outcome = await send(bus, commands.AddLineItem(order_id="o-1", sku=sku, quantity=1))

    assert refusal(outcome) == code
    assert [line.sku for line in stored(factory).lines] == ["MUG-1"]


async def test_a_line_is_updated_and_removed_and_an_absent_one_is_refused() -> None:
    bus, factory = await a_draft(("MUG-1", 1), ("TEA-7", 1))
    await accept(
        bus,
        commands.UpdateLineItem(order_id="o-1", sku="MUG-1", quantity=7),
        commands.RemoveLineItem(order_id="o-1", sku="TEA-7"),
    )
    absent = await send(bus, commands.RemoveLineItem(order_id="o-1", sku="TEA-7"))

    assert refusal(absent) == "line_item_not_found"
    assert [(line.sku, line.quantity) for line in stored(factory).lines] == [("MUG-1", 7)]
    assert events_of(factory)[-2:] == ["OrderItemUpdated", "OrderItemRemoved"]


async def test_more_than_1000_units_on_one_line_are_refused() -> None:
    bus, _ = await a_draft(("MUG-1", 600))
    outcome = await send(bus, commands.AddLineItem(order_id="o-1", sku="MUG-1", quantity=401))
    assert refusal(outcome) == "too_many_units"


# --- placing, cancelling, and the saga's commands -----------------------------------------------


async def test_placing_prices_every_line_with_the_volume_discounts_and_sets_the_total() -> None:
    _, factory = await a_placed_order()

    order = stored(factory)
    assert order.status is OrderStatus.PLACED
    assert order.total is not None and order.total.to_string() == "23.50"
    placed, _ = factory.store.outbox[-1]
    keys = ("sku", "quantity", "unit_price", "discount", "subtotal")
    assert placed.payload()["lines"] == [
        dict(zip(keys, ("MUG-1", 10, "2.00", "1.00", "19.00"), strict=True)),  # 5% off 10 units
        dict(zip(keys, ("TEA-7", 1, "4.50", "0.00", "4.50"), strict=True)),
    ]


async def test_an_empty_order_is_not_placed_and_a_placed_one_takes_no_more_lines() -> None:
    bus, _ = await a_draft()
    assert refusal(await send(bus, commands.PlaceOrder(order_id="o-1"))) == "empty_order"

    bus, _ = await a_placed_order()
    again = await send(bus, commands.AddLineItem(order_id="o-1", sku="MUG-1", quantity=1))
    assert refusal(again) == "order_not_draft"


async def test_a_cancelled_draft_ends_at_once_with_its_reason() -> None:
    bus, factory = await a_draft(("MUG-1", 1))
    await accept(bus, commands.CancelOrder(order_id="o-1", reason="changed my mind"))

    order = stored(factory)
    assert (order.status, order.reason) == (OrderStatus.CANCELLED, "changed my mind")


async def test_a_placed_order_cancelled_before_the_charge_ends_cancelled() -> None:
    bus, factory = await a_placed_order()
    await accept(bus, commands.CancelOrder(order_id="o-1", reason="too slow"))
    charge = await send(bus, commands.StartOrderCharge(order_id="o-1"))
    await accept(bus, commands.RecordOrderOutcome(order_id="o-1", state="compensated", reason="x"))

    assert refusal(charge) == "order_cancelled"
    order = stored(factory)
    assert (order.status, order.reason) == (OrderStatus.CANCELLED, "too slow")
    assert events_of(factory)[-2:] == ["OrderCancellationRequested", "OrderCancelled"]


async def test_once_charging_the_order_cannot_be_cancelled_and_completion_confirms_it() -> None:
    bus, factory = await a_placed_order()
    await accept(bus, commands.StartOrderCharge(order_id="o-1"))
    await accept(bus, commands.StartOrderCharge(order_id="o-1"))  # the saga's retry: no change
    cancel = await send(bus, commands.CancelOrder(order_id="o-1", reason="too late"))
    await accept(bus, commands.RecordOrderOutcome(order_id="o-1", state="completed"))

    assert refusal(cancel) == "order_not_cancellable"
    assert stored(factory).status is OrderStatus.CONFIRMED
    assert events_of(factory)[-2:] == ["OrderChargeStarted", "OrderConfirmed"]


async def test_a_rejected_saga_rejects_the_order_with_its_reason() -> None:
    bus, factory = await a_placed_order()
    await accept(
        bus,
        commands.RecordOrderOutcome(order_id="o-1", state="rejected", reason="out_of_stock: MUG-1"),
    )
    order = stored(factory)
    assert (order.status, order.reason) == (OrderStatus.REJECTED, "out_of_stock: MUG-1")


@pytest.mark.parametrize(
    "command",
    [
        commands.AddLineItem(order_id="o-9", sku="MUG-1", quantity=1),
        commands.UpdateLineItem(order_id="o-9", sku="MUG-1", quantity=1),
        commands.RemoveLineItem(order_id="o-9", sku="MUG-1"),
        commands.PlaceOrder(order_id="o-9"),
        commands.CancelOrder(order_id="o-9", reason="why"),
        commands.StartOrderCharge(order_id="o-9"),
        commands.RecordOrderOutcome(order_id="o-9", state="completed"),
    ],
    ids=lambda command: command.name(),
)
async def test_a_command_to_an_unknown_order_is_refused(command: Command) -> None:
    bus, factory = a_bus()
    assert refusal(await send(bus, command)) == "order_not_found"
    assert factory.store.outbox == []
