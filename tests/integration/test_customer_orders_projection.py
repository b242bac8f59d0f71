"""The customer_orders projection on SQLite and PostgreSQL: the events of real orders, as
the outbox publishes them, applied one transaction each; and ``customers orders``.

Nothing runs the projection end to end yet: the tests call its ``apply`` as the
framework will, each order's events in version order, once each.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from domain.orders.order import Order
from domain.orders.pricing import Pricing
from domain.shared.model import DomainEvent
from tests.integration.context_storage import Storage, database_fixture, eur, worker_cli
from tests.wiring import CONTEXTS
from worker.bus.messagebus import MessageBus
from worker.bus.outcomes import Outcome, Status
from worker.bus.unit_of_work import MessageContext
from worker.contexts.accounts.commands import OpenAccount
from worker.contexts.customers.orders_projection import CUSTOMER_ORDERS, orders_of
from worker.persistence.outbox import outbox_columns
from worker.readside.declarations import LoggedEvent
from worker.readside.read_model import ReadModel

pytestmark = pytest.mark.integration

customer_orders_database = database_fixture("customer_orders", CONTEXTS)
storage = Storage(CONTEXTS)
bus = MessageBus(storage.uow_factory, CONTEXTS.handlers)
ROW = "SELECT * FROM {customer_orders} WHERE order_id = ?"


def logged(events: list[DomainEvent]) -> list[LoggedEvent]:
    """The events as the log hands them to a handler: the outbox's JSON, read back."""
    found = []
    for position, event in enumerate(events, 1):
        row = outbox_columns(event, MessageContext(f"msg-{position}", "test"))
        payload = json.loads(row["payload"])
        found.append(
            LoggedEvent(
                position=position,
                event_id=row["event_id"],
                event_type=row["event_type"],
                aggregate_type=row["aggregate_type"],
                aggregate_id=row["aggregate_id"],
                aggregate_version=row["aggregate_version"],
                payload=payload,
                occurred_at=payload["occurred_at"],
                correlation_id=None,
                causation_id=None,
            )
        )
    return found


def a_draft(customer_id: str = "cust-1") -> Order:
    order = Order.create(f"ord-{uuid.uuid4().hex[:8]}", customer_id, "acc-1", "EUR")
    order.add_line("TEA", 2, eur("4.50"))
    order.add_line("MUG", 1, eur("12.00"))
    return order


def a_placed(customer_id: str = "cust-1") -> Order:
    order = a_draft(customer_id)
    order.place(Pricing())
    return order


async def generation(number: int = 1) -> ReadModel:
    model = ReadModel(connections.get("default"), CUSTOMER_ORDERS, number)
    await model.create_tables()
    return model


async def project(order: Order, number: int = 1) -> tuple[dict[str, Any], list[LoggedEvent]]:
    """Apply the order's events to generation ``number``, one transaction each; its row."""
    events = logged(order.collect_events())
    await generation(number)
    for event in events:
        async with in_transaction() as tx:
            await CUSTOMER_ORDERS.apply(event, ReadModel(tx, CUSTOMER_ORDERS, number))
    [row] = await (await generation(number)).fetch(ROW, [order.id])
    return row, events


async def test_a_draft_counts_its_distinct_lines_and_has_no_total(
    customer_orders_database: str,
) -> None:
    order = a_draft()
    order.add_line("TEA", 3, eur("4.50"))  # the same sku: its line grows, no new line
    order.add_line("PEN", 1, eur("1.00"))
    order.update_line("MUG", 4)
    order.remove_line("PEN")

    row, events = await project(order)

    assert row == {
        "order_id": order.id,
        "customer_id": "cust-1",
        "status": "draft",
        "total": None,
        "currency": "EUR",
        "lines": 2,
        "placed_at": None,
        "ended_at": None,
        "version": 7,
    }
    assert len(events) == 7


async def test_a_placed_order_shows_its_total_lines_and_when_it_was_placed(
    customer_orders_database: str,
) -> None:
    row, events = await project(a_placed())

    placed = events[-1]
    assert placed.event_type == "orders.OrderPlaced"
    assert (row["status"], row["total"], row["lines"]) == ("placed", "21.00", 2)
    assert (row["placed_at"], row["ended_at"], row["version"]) == (placed.occurred_at, None, 4)


async def test_a_confirmed_order_has_ended_when_its_confirmation_happened(
    customer_orders_database: str,
) -> None:
    order = a_placed()
    order.start_charge()
    order.end("completed", "charged and committed")

    row, events = await project(order)

    assert (row["status"], row["total"], row["version"]) == ("confirmed", "21.00", 6)
    assert (row["placed_at"], row["ended_at"]) == (events[3].occurred_at, events[5].occurred_at)


@pytest.mark.parametrize(
    ("story", "status", "ended"),
    [
        ([("end", "rejected", "step_failed: insufficient funds")], "rejected", True),
        ([("cancel", "changed my mind"), ("end", "compensated", "x")], "cancelled", True),
        ([("cancel", "changed my mind")], "placed", False),  # asked, not yet stopped
        ([("start_charge",)], "placed", False),
        ([("end", "needs_operator", "refund failed")], "needs_operator", False),
        ([("end", "needs_operator", "r"), ("end", "resolved", "by hand")], "resolved", True),
        ([("end", "conflicted", "another run holds the id")], "conflicted", True),
    ],
)
async def test_each_end_of_an_order_sets_its_status_and_only_an_ended_one_its_end(
    customer_orders_database: str, story: list[tuple[str, ...]], status: str, ended: bool
) -> None:
    order = a_placed()
    for step, *arguments in story:
        getattr(order, step)(*arguments)

    row, events = await project(order)

    assert (row["status"], row["version"]) == (status, len(events))
    assert row["ended_at"] == (events[-1].occurred_at if ended else None)
    assert (row["total"], row["lines"]) == ("21.00", 2)


async def test_a_draft_cancelled_ends_without_ever_being_placed(
    customer_orders_database: str,
) -> None:
    order = a_draft()
    order.cancel("no longer needed")

    row, events = await project(order)

    assert (row["status"], row["total"], row["placed_at"]) == ("cancelled", None, None)
    assert row["ended_at"] == events[-1].occurred_at


async def test_a_rebuilt_generation_holds_the_very_same_rows(
    customer_orders_database: str,
) -> None:
    order = a_placed()
    order.start_charge()
    order.end("completed", "done")
    events = logged(order.collect_events())
    generations = {}
    for number in (11, 12):
        model = await generation(number)
        for event in events:
            async with in_transaction() as tx:
                await CUSTOMER_ORDERS.apply(event, ReadModel(tx, CUSTOMER_ORDERS, number))
        generations[number] = json.dumps(await model.fetch(ROW, [order.id]))

    assert generations[11] == generations[12]
    assert json.loads(generations[11])[0]["status"] == "confirmed"


async def test_a_customer_s_orders_are_theirs_alone_by_order_id(
    customer_orders_database: str,
) -> None:
    customer = f"cust-{uuid.uuid4().hex[:8]}"
    mine = [a_placed(customer), a_draft(customer)]
    for order in [*mine, a_placed("someone-else")]:
        await project(order)

    found = await orders_of(await generation(), customer)

    assert [row["order_id"] for row in found] == sorted(order.id for order in mine)
    assert {row["status"] for row in found} == {"placed", "draft"}


# --- ``customers orders``, run as ``python -m worker`` against the same database ----------


async def handle(command: Any) -> Outcome:
    return await bus.handle(command, MessageContext(f"msg-{uuid.uuid4().hex}", command.name()))


async def a_customer() -> str:
    customer_id, account_id = f"cust-{uuid.uuid4().hex[:8]}", f"acc-{uuid.uuid4().hex[:8]}"
    opened = await handle(OpenAccount(account_id=account_id, owner="Ann", currency="EUR"))
    body = {
        "customer_id": customer_id,
        "name": "Ann",
        "email": "ann@example.com",
        "billing_address": {"line1": "1 Main St", "city": "X", "postal_code": "1", "country": "DE"},
        "payment_account_id": account_id,
    }
    registered = await handle(CONTEXTS.commands.parse("RegisterCustomer", body))
    assert (opened.status, registered.status) == (Status.ACCEPTED, Status.ACCEPTED)
    return customer_id


async def cli(database_url: str, *argv: str) -> tuple[int, str, str]:
    done = await asyncio.to_thread(worker_cli, database_url, *argv)
    return done.returncode, done.stdout, done.stderr


async def test_customers_orders_prints_the_projection_s_rows_as_json(
    customer_orders_database: str,
) -> None:
    customer_id = await a_customer()
    confirmed = a_placed(customer_id)
    confirmed.start_charge()
    confirmed.end("completed", "done")
    draft = a_draft(customer_id)
    (confirmed_row, events), (draft_row, _) = await project(confirmed), await project(draft)

    code, out, err = await cli(
        customer_orders_database, "customers", "orders", customer_id, "--json"
    )

    assert (code, err) == (0, "")
    shown = {"order_id", "status", "total", "lines", "placed_at", "ended_at"}
    expected = sorted([confirmed_row, draft_row], key=lambda row: row["order_id"])
    assert json.loads(out) == {
        "customer_id": customer_id,
        "orders": [{key: row[key] for key in row if key in shown} for row in expected],
    }
    assert list(json.loads(out)["orders"][0]) == [
        "order_id",
        "status",
        "total",
        "lines",
        "placed_at",
        "ended_at",
    ]
    assert confirmed_row["ended_at"] == events[-1].occurred_at


async def test_customers_orders_prints_a_table_and_an_empty_one_for_no_orders(
    customer_orders_database: str,
) -> None:
    customer_id = await a_customer()
    code, out, _ = await cli(customer_orders_database, "customers", "orders", customer_id)
    assert (code, out.split()) == (0, ["ORDER", "STATUS", "TOTAL", "LINES", "PLACED", "ENDED"])

    order = a_placed(customer_id)
    await project(order)
    code, out, _ = await cli(customer_orders_database, "customers", "orders", customer_id)

    assert code == 0
    [line] = out.splitlines()[1:]
    assert line.split()[:5] == [order.id, "placed", "21.00", "EUR", "2"]
    assert line.split()[-1] == "-"  # not ended


async def test_customers_orders_of_an_unknown_customer_says_so_in_one_line(
    customer_orders_database: str,
) -> None:
    code, out, err = await cli(customer_orders_database, "customers", "orders", "nobody")

    assert (code, out, err.splitlines()) == (1, "", ["error: customer nobody does not exist"])


async def test_customers_orders_without_the_projection_s_tables_asks_for_a_migration(
    customer_orders_database: str,
) -> None:
    customer_id = await a_customer()
    model = await generation()
    await model.drop_tables()
    try:
        code, out, err = await cli(customer_orders_database, "customers", "orders", customer_id)
    finally:
        await model.create_tables()

    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith("error: the database at ")
    assert line.endswith("is not migrated: run `python -m worker db migrate`")


async def test_customers_orders_has_help(customer_orders_database: str) -> None:
    code, out, _ = await cli(customer_orders_database, "customers", "orders", "--help")

    assert code == 0
    assert "CUSTOMER_ID" in out and "--json" in out and "customer_orders" in out
