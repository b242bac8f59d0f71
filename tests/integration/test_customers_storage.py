"""Customers stored for real, on SQLite and PostgreSQL: saved, loaded back whole, read by
other contexts through their read port, and shown by ``customers show`` and ``list``."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from domain.customers.customer import Address, Customer, Email
from tests.integration.context_storage import Storage, database_fixture, worker_cli
from tests.wiring import CONTEXTS
from worker.bus.messagebus import MessageBus
from worker.bus.outcomes import Outcome, Status
from worker.bus.unit_of_work import MessageContext
from worker.contexts.accounts.commands import OpenAccount
from worker.contexts.customers.published import CustomerDirectory
from worker.persistence.models import OutboxRow

pytestmark = pytest.mark.integration

storage = Storage(CONTEXTS)
bus = MessageBus(storage.uow_factory, CONTEXTS.handlers)
customers_database = database_fixture("customers", CONTEXTS)

HOME = Address("Hauptstraße 1", "Berlin", "10115", "DE")
OFFICE = Address("1 Main Street", "Springfield", "12345", "US", line2="Suite 200")


async def handle(command: Any) -> Outcome:
    context = MessageContext(f"msg-{uuid.uuid4().hex}", type(command).name())
    return await bus.handle(command, context)


async def an_account() -> str:
    account_id = f"acc-{uuid.uuid4().hex[:8]}"
    opened = await handle(OpenAccount(account_id=account_id, owner="Ann", currency="EUR"))
    assert opened.status is Status.ACCEPTED
    return account_id


def register(customer_id: str, account_id: str, shipping: Address | None = OFFICE) -> Any:
    body = {
        "customer_id": customer_id,
        "name": "Ann Exämple",
        "email": "ann@example.com",
        "billing_address": HOME.as_dict(),
        "shipping_address": None if shipping is None else shipping.as_dict(),
        "payment_account_id": account_id,
    }
    return CONTEXTS.commands.parse("RegisterCustomer", body)


async def a_customer(shipping: Address | None = OFFICE) -> tuple[str, str]:
    customer_id, account_id = f"cust-{uuid.uuid4().hex[:8]}", await an_account()
    assert (await handle(register(customer_id, account_id, shipping))).status is Status.ACCEPTED
    return customer_id, account_id


async def test_a_registered_customer_loads_back_with_every_field(customers_database: str) -> None:
    customer_id, account_id = await a_customer()

    customer = await storage.find(Customer, customer_id)

    assert customer is not None
    assert (customer.name, customer.email, customer.payment_account_id) == (
        "Ann Exämple",
        Email("ann@example.com"),
        account_id,
    )
    assert (customer.billing_address, customer.shipping_address) == (HOME, OFFICE)
    assert (customer.loyalty_points, customer.version) == (0, 1)
    [row] = await OutboxRow.filter(aggregate_id=customer_id)
    occurred = json.loads(row.payload)["occurred_at"]
    created, updated = customer.created_at, customer.updated_at
    assert created is not None and updated is not None
    assert created.utcoffset() is not None  # aware, as the event's time is
    assert created.isoformat() == updated.isoformat() == occurred


async def test_the_event_record_holds_customer_registered_with_its_addresses(
    customers_database: str,
) -> None:
    customer_id, account_id = await a_customer(shipping=None)

    [row] = await OutboxRow.filter(aggregate_id=customer_id)

    assert (row.event_type, row.aggregate_version) == ("customers.CustomerRegistered", 1)
    payload = json.loads(row.payload)
    assert {key: value for key, value in payload.items() if key != "occurred_at"} == {
        "customer_id": customer_id,
        "name": "Ann Exämple",
        "email": "ann@example.com",
        "payment_account_id": account_id,
        "billing_address": HOME.as_dict(),
        "shipping_address": HOME.as_dict(),
    }


async def test_a_payment_account_is_looked_up_in_the_same_database(customers_database: str) -> None:
    customer_id = f"cust-{uuid.uuid4().hex[:8]}"

    outcome = await handle(register(customer_id, "no-such-account"))

    assert (outcome.status, outcome.error and outcome.error.code) == (
        Status.REJECTED,
        "account_not_found",
    )
    assert await storage.find(Customer, customer_id) is None


async def test_registering_a_customer_twice_is_rejected(customers_database: str) -> None:
    customer_id, account_id = await a_customer()

    again = await handle(register(customer_id, account_id))

    assert (again.status, again.error and again.error.code) == (
        Status.REJECTED,
        "customer_already_exists",
    )


async def test_other_contexts_read_a_customers_payment_account(customers_database: str) -> None:
    customer_id, account_id = await a_customer()

    async with storage.unit_of_work() as uow:
        directory = uow.read_port(CustomerDirectory)
        assert await directory.payment_account_of(customer_id) == account_id
        assert await directory.payment_account_of("nobody") is None


async def award(customer_id: str, order_id: str, points: int) -> Outcome:
    body = {"customer_id": customer_id, "order_id": order_id, "points": points}
    return await handle(CONTEXTS.commands.parse("AwardLoyaltyPoints", body))


async def test_awarded_loyalty_points_are_stored_past_what_a_32_bit_column_holds(
    customers_database: str,
) -> None:
    customer_id, _ = await a_customer()
    big = 3_000_000_000  # an order of three billion euros: beyond PostgreSQL's INTEGER

    first, second = await award(customer_id, "ord-1", big), await award(customer_id, "ord-2", 7)

    assert (first.status, second.status) == (Status.ACCEPTED, Status.ACCEPTED)
    customer = await storage.stored(Customer, customer_id)
    assert (customer.loyalty_points, customer.version) == (big + 7, 3)
    rows = await OutboxRow.filter(aggregate_id=customer_id).order_by("id")
    [*_, last] = rows
    assert (last.event_type, last.aggregate_version) == ("customers.LoyaltyPointsAwarded", 3)
    payload = json.loads(last.payload)
    assert {key: payload[key] for key in payload if key != "occurred_at"} == {
        "customer_id": customer_id,
        "order_id": "ord-2",
        "points": 7,
        "loyalty_points": big + 7,
    }


async def test_points_for_an_unknown_customer_are_rejected(customers_database: str) -> None:
    outcome = await award("nobody", "ord-1", 5)

    assert (outcome.status, outcome.error and outcome.error.code) == (
        Status.REJECTED,
        "customer_not_found",
    )


# --- the CLI, run as ``python -m worker`` against the same database ----------------------


async def cli(database_url: str, *argv: str) -> tuple[int, str, str]:
    done = await asyncio.to_thread(worker_cli, database_url, *argv)
    return done.returncode, done.stdout, done.stderr


async def test_customers_show_prints_the_customer_as_json(customers_database: str) -> None:
    customer_id, account_id = await a_customer()

    code, out, _ = await cli(customers_database, "customers", "show", customer_id, "--json")

    assert code == 0
    shown = json.loads(out)
    assert {key: shown[key] for key in shown if not key.endswith("_at")} == {
        "customer_id": customer_id,
        "name": "Ann Exämple",
        "email": "ann@example.com",
        "payment_account_id": account_id,
        "loyalty_points": 0,
        "billing_address": HOME.as_dict(),
        "shipping_address": OFFICE.as_dict(),
        "version": 1,
    }
    assert shown["created_at"] == shown["updated_at"] is not None


async def test_customers_show_prints_the_loyalty_points_awarded(customers_database: str) -> None:
    customer_id, _ = await a_customer()
    await award(customer_id, "ord-1", 129)

    code, out, _ = await cli(customers_database, "customers", "show", customer_id, "--json")

    assert (code, json.loads(out)["loyalty_points"], json.loads(out)["version"]) == (0, 129, 2)


async def test_customers_show_and_list_print_readable_lines(customers_database: str) -> None:
    customer_id, account_id = await a_customer()

    code, out, _ = await cli(customers_database, "customers", "show", customer_id)
    assert code == 0
    assert "Hauptstraße 1, 10115 Berlin, DE" in out
    assert "1 Main Street, Suite 200, 12345 Springfield, US" in out

    code, out, _ = await cli(customers_database, "customers", "list")
    assert code == 0
    [line] = [line for line in out.splitlines() if line.startswith(customer_id)]
    assert account_id in line and "Ann Exämple <ann@example.com>" in line

    code, out, _ = await cli(customers_database, "customers", "list", "--json")
    assert customer_id in [customer["customer_id"] for customer in json.loads(out)]


async def test_customers_show_of_an_unknown_customer_says_so_in_one_line(
    customers_database: str,
) -> None:
    code, out, err = await cli(customers_database, "customers", "show", "nobody")

    assert (code, out, err.splitlines()) == (1, "", ["error: customer nobody does not exist"])
