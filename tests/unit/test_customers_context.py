"""The customers context: its commands' wire contract, its handlers on the fakes, its read
port, and what its customer_orders projection assumes of the orders' published events."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from domain.accounts.account import Account
from domain.customers.customer import Address, Customer, Email
from domain.orders.events import OrderEvent
from domain.orders.order import ENDED, OrderStatus
from domain.shared.model import AggregateRoot
from tests.fakes import FAKE_TABLES, FakeTable, FakeUnitOfWorkFactory
from worker.bus.commands import InvalidCommand
from worker.bus.messagebus import MessageBus
from worker.bus.outcomes import Outcome, Status
from worker.bus.unit_of_work import MessageContext
from worker.context import Contexts
from worker.contexts import accounts, customers
from worker.contexts.accounts.commands import OpenAccount
from worker.contexts.customers.commands import AwardLoyaltyPoints, RegisterCustomer
from worker.contexts.customers.loyalty import AWARD_LOYALTY_POINTS
from worker.contexts.customers.orders_projection import CUSTOMER_ORDERS, STATUS_AFTER, adds_a_line
from worker.contexts.customers.published import CustomerDirectory

CONTEXTS = Contexts([accounts.CONTEXT, customers.CONTEXT])
parse = CONTEXTS.commands.parse

HOME = {"line1": "Hauptstraße 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}
OFFICE = {**HOME, "line1": "Unter den Linden 5", "line2": "3. OG", "postal_code": "10117"}
REQUEST: dict[str, Any] = {
    "customer_id": "cust-1",
    "name": "Ann Example",
    "email": "ann@example.com",
    "billing_address": HOME,
    "payment_account_id": "acc-1",
}


def customer_row(customer: Customer) -> dict[str, Any]:
    return {
        "name": customer.name,
        "email": customer.email,
        "billing": customer.billing_address,
        "shipping": customer.shipping_address,
        "account": customer.payment_account_id,
        "points": customer.loyalty_points,
        "times": (customer.created_at, customer.updated_at),
    }


def customer_from_row(id: str, row: dict[str, Any]) -> Customer:
    fields = (row["billing"], row["shipping"], row["account"], row["points"], row["version"])
    return Customer(id, row["name"], row["email"], *fields, *row["times"])


TABLES: dict[type[AggregateRoot], FakeTable] = {
    Account: FAKE_TABLES[Account],
    Customer: ("customers", customer_row, customer_from_row),
}


def a_bus() -> tuple[MessageBus, FakeUnitOfWorkFactory]:
    factory = FakeUnitOfWorkFactory(tables=TABLES, read_ports=CONTEXTS.read_ports)
    return MessageBus(factory, CONTEXTS.handlers), factory


async def send(bus: MessageBus, body: dict[str, Any], name: str = "RegisterCustomer") -> Outcome:
    command = parse(name, body)
    return await bus.handle(command, MessageContext(f"m-{uuid.uuid4().hex}", name))


async def with_account(account_id: str = "acc-1") -> tuple[MessageBus, FakeUnitOfWorkFactory]:
    bus, factory = a_bus()
    opened = OpenAccount(account_id=account_id, owner="Ann", currency="EUR")
    await bus.handle(opened, MessageContext(f"open-{account_id}", "OpenAccount"))
    return bus, factory


def refusal(outcome: Outcome) -> tuple[Status, str | None]:
    return outcome.status, None if outcome.error is None else outcome.error.code


# --- the wire contract -------------------------------------------------------------------


def test_register_customer_arrives_on_the_customers_queue_and_names_its_customer() -> None:
    command = parse("RegisterCustomer", REQUEST)

    assert isinstance(command, RegisterCustomer)
    assert CONTEXTS.commands.queue_of("RegisterCustomer") == "customers.commands"
    assert (command.aggregate_id, RegisterCustomer.identity_fields) == ("cust-1", ("customer_id",))
    assert command.customer_name == "Ann Example"
    assert command.shipping_address is None


def test_the_command_goes_back_on_the_wire_as_it_came_with_name_and_its_routing_key() -> None:
    command = parse("RegisterCustomer", {**REQUEST, "shipping_address": OFFICE})

    assert command.name() == "RegisterCustomer"
    assert parse("RegisterCustomer", command.model_dump(mode="json")) == command
    assert '"name":"Ann Example"' in command.model_dump_json()
    assert "name" in RegisterCustomer.model_json_schema()["required"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"billing_address": {**HOME, "country": "de"}}, "billing_address.country: "),
        ({"billing_address": {**HOME, "country": "XX"}}, "billing_address.country: "),
        ({"billing_address": {**HOME, "colour": "red"}}, "billing_address.colour: "),
        ({"billing_address": {**HOME, "postal_code": 10115}}, "billing_address.postal_code: "),
        ({"billing_address": {**HOME, "city": " "}}, "billing_address.city: "),
        ({"billing_address": {**HOME, "line1": "x" * 201}}, "billing_address.line1: "),
        ({"billing_address": {**HOME, "line2": "a\x00b"}}, "billing_address.line2: "),
        (
            {"billing_address": {"line1": "x", "city": "y", "country": "DE"}},
            "billing_address.postal_code: Field required",
        ),
        ({"billing_address": "Hauptstraße 1, Berlin"}, "billing_address: "),
        ({"shipping_address": {**HOME, "country": "Germany"}}, "shipping_address.country: "),
        ({"name": "   "}, "name: "),
        ({"name": "x" * 201}, "name: "),
        ({"email": "ann at example.com"}, "email: "),
        ({"email": "ann@localhost"}, "email: "),
        ({"customer_id": "a/b"}, "customer_id: "),
        ({"payment_account_id": ""}, "payment_account_id: "),
        ({"customer_name": "Ann"}, "customer_name: Extra inputs"),
    ],
)
def test_a_malformed_request_is_refused_naming_the_field(
    change: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidCommand) as raised:
        parse("RegisterCustomer", {**REQUEST, **change})

    assert raised.value.code == "schema_validation_failed"
    assert named in raised.value.message


def test_a_country_is_refused_with_what_a_country_code_looks_like() -> None:
    with pytest.raises(InvalidCommand) as raised:
        parse("RegisterCustomer", {**REQUEST, "billing_address": {**HOME, "country": "de"}})

    assert "'de' is not an ISO 3166-1 alpha-2 country code" in raised.value.message


@pytest.mark.parametrize("missing", ["customer_id", "name", "email", "billing_address"])
def test_every_field_but_the_shipping_address_is_required(missing: str) -> None:
    body = {key: value for key, value in REQUEST.items() if key != missing}
    with pytest.raises(InvalidCommand) as raised:
        parse("RegisterCustomer", body)
    assert f"{missing}: Field required" in raised.value.message


# --- the handler -------------------------------------------------------------------------


async def test_a_registered_customer_is_stored_and_customer_registered_goes_out() -> None:
    bus, factory = await with_account()

    outcome = await send(bus, {**REQUEST, "shipping_address": OFFICE})

    assert outcome.status is Status.ACCEPTED
    row = factory.store.table("customers")["cust-1"]
    assert (row["name"], row["email"], row["account"]) == (
        "Ann Example",
        Email("ann@example.com"),
        "acc-1",
    )
    assert row["shipping"] == Address(**OFFICE)
    assert (row["version"], row["points"]) == (1, 0)
    event, context = factory.store.outbox[-1]
    assert type(event).type_name() == "customers.CustomerRegistered"
    assert event.payload()["shipping_address"] == Address(**OFFICE).as_dict()
    assert context.command_name == "RegisterCustomer"


async def test_without_a_shipping_address_the_billing_address_is_stored_for_both() -> None:
    bus, factory = await with_account()

    await send(bus, REQUEST)

    row = factory.store.table("customers")["cust-1"]
    assert row["billing"] == row["shipping"] == Address(**HOME)


async def test_a_customer_whose_payment_account_does_not_exist_is_rejected() -> None:
    bus, factory = await with_account("someone-else")

    outcome = await send(bus, REQUEST)

    assert refusal(outcome) == (Status.REJECTED, "account_not_found")
    assert outcome.error is not None and "acc-1" in outcome.error.message
    assert factory.store.table("customers") == {}
    assert [type(e).name() for e, _ in factory.store.outbox] == ["AccountOpened"]


async def test_a_second_registration_of_the_same_customer_is_rejected_and_changes_nothing() -> None:
    bus, factory = await with_account()
    await send(bus, REQUEST)

    again = await send(bus, {**REQUEST, "name": "Somebody Else"})

    assert refusal(again) == (Status.REJECTED, "customer_already_exists")
    assert factory.store.table("customers")["cust-1"]["name"] == "Ann Example"
    assert [type(e).name() for e, _ in factory.store.outbox].count("CustomerRegistered") == 1


async def test_the_same_message_twice_is_answered_from_the_inbox() -> None:
    bus, factory = await with_account()
    command = parse("RegisterCustomer", REQUEST)

    first = await bus.handle(command, MessageContext("reg-1", "RegisterCustomer"))
    second = await bus.handle(command, MessageContext("reg-1", "RegisterCustomer"))

    assert (first.status, second.status, second.duplicate) == (
        Status.ACCEPTED,
        Status.ACCEPTED,
        True,
    )
    assert len(factory.store.table("customers")) == 1


# --- loyalty points ----------------------------------------------------------------------

AWARD: dict[str, Any] = {"customer_id": "cust-1", "order_id": "ord-1", "points": 129}


def test_award_loyalty_points_is_a_public_command_only_the_policy_may_issue() -> None:
    command = parse("AwardLoyaltyPoints", AWARD)

    assert isinstance(command, AwardLoyaltyPoints)
    assert CONTEXTS.commands.queue_of("AwardLoyaltyPoints") == "customers.commands"
    assert (AwardLoyaltyPoints.internal, AwardLoyaltyPoints.issued_by) == (
        False,
        "award_loyalty_points",
    )
    assert AwardLoyaltyPoints.identity_fields == ("customer_id", "order_id")
    assert command.aggregate_id == "cust-1"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"points": 0}, "points: "),
        ({"points": -5}, "points: "),
        ({"points": "129"}, "points: "),
        ({"points": 12.5}, "points: "),
        ({"points": True}, "points: "),
        ({"points": 2**63}, "points: "),
        ({"order_id": "a/b"}, "order_id: "),
        ({"customer_id": ""}, "customer_id: "),
    ],
)
def test_an_award_of_no_whole_positive_points_is_refused_naming_the_field(
    change: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidCommand) as raised:
        parse("AwardLoyaltyPoints", {**AWARD, **change})

    assert named in raised.value.message


async def test_awarded_points_add_up_and_loyalty_points_awarded_goes_out() -> None:
    bus, factory = await with_account()
    await send(bus, REQUEST)

    first = await send(bus, AWARD, "AwardLoyaltyPoints")
    second = await send(bus, {**AWARD, "order_id": "ord-2", "points": 1}, "AwardLoyaltyPoints")

    assert (first.status, second.status) == (Status.ACCEPTED, Status.ACCEPTED)
    row = factory.store.table("customers")["cust-1"]
    assert (row["points"], row["version"]) == (130, 3)
    awarded = [e.payload() for e, _ in factory.store.outbox if e.name() == "LoyaltyPointsAwarded"]
    assert awarded == [
        {"customer_id": "cust-1", "order_id": "ord-1", "points": 129, "loyalty_points": 129},
        {"customer_id": "cust-1", "order_id": "ord-2", "points": 1, "loyalty_points": 130},
    ]


async def test_points_for_a_customer_who_does_not_exist_are_rejected() -> None:
    bus, factory = await with_account()

    outcome = await send(bus, AWARD, "AwardLoyaltyPoints")

    assert refusal(outcome) == (Status.REJECTED, "customer_not_found")
    assert outcome.error is not None and "cust-1" in outcome.error.message
    assert factory.store.table("customers") == {}


# --- the customer_orders projection: the orders' published contract, by name alone ------


def test_customer_orders_follows_every_event_an_order_records() -> None:
    recorded = {event.type_name() for event in OrderEvent.__subclasses__()}

    assert set(CUSTOMER_ORDERS.events) == recorded
    assert len(CUSTOMER_ORDERS.events) == len(recorded)


def test_the_statuses_it_shows_and_the_ended_ones_are_the_orders_own() -> None:
    shown = {status for status, _ in STATUS_AFTER.values()} | {"draft", "placed"}
    ended = {status for status, ends in STATUS_AFTER.values() if ends}

    assert shown == {status.value for status in OrderStatus}
    assert ended == {status.value for status in ENDED}


@pytest.mark.parametrize(
    ("quantity", "line_quantity", "opens"), [(2, 2, True), (1, 3, False), (5, 6, False)]
)
def test_an_item_added_opens_a_line_only_when_the_line_holds_just_those_units(
    quantity: int, line_quantity: int, opens: bool
) -> None:
    assert adds_a_line({"quantity": quantity, "line_quantity": line_quantity}) is opens


# --- the read port and the declaration ---------------------------------------------------


async def test_the_customer_directory_tells_which_account_a_customer_pays_with() -> None:
    bus, factory = await with_account()
    await send(bus, REQUEST)

    async with factory(MessageContext("read", "test")) as uow:
        directory = uow.read_port(CustomerDirectory)
        assert await directory.payment_account_of("cust-1") == "acc-1"
        assert await directory.payment_account_of("nobody") is None


def test_the_context_declares_its_commands_events_tables_ports_and_subscriptions() -> None:
    context = customers.CONTEXT

    assert context.name == "customers"
    assert list(context.handlers) == [RegisterCustomer, AwardLoyaltyPoints]
    assert [event.type_name() for event in context.events] == [
        "customers.CustomerRegistered",
        "customers.LoyaltyPointsAwarded",
    ]
    assert context.subscriptions == (CUSTOMER_ORDERS, AWARD_LOYALTY_POINTS)
    assert [store.aggregate for store in context.aggregates] == [Customer]
    assert context.read_ports == {CustomerDirectory: CustomerDirectory}
    assert CONTEXTS.tortoise_apps["customers"] == (
        "worker.contexts.customers.persistence",
        "worker.contexts.customers.migrations",
    )
    assert context.cli is not None
    registered = {command.name for command in context.cli().registered_commands}
    assert registered == {"show", "list", "orders"}
