"""Orders end to end: what an outside client publishes, and what the database and Temporal
say afterwards. Every command goes through AMQP (``BusClient``), as a client's would."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus

from tests.e2e.harness import BusClient, money, open_account
from tests.services import pg_fetch

#: The order statuses no saga moves on from.
ENDED = frozenset({"confirmed", "rejected", "cancelled", "resolved", "conflicted"})
WITHDRAWN = "accounts.MoneyWithdrawn"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_sku(prefix: str) -> str:
    """A sku of this run only (skus are upper case)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}".upper()


def address(country: str = "DE") -> dict[str, Any]:
    return {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": country}


def customer(customer_id: str, account_id: str, **fields: Any) -> dict[str, Any]:
    """A RegisterCustomer body; ``fields`` replace its defaults."""
    return {
        "customer_id": customer_id,
        "name": f"Customer {customer_id}",
        "email": f"{customer_id}@example.com",
        "billing_address": address(),
        "payment_account_id": account_id,
        **fields,
    }


async def accepted(bus: BusClient, command: str, body: dict[str, Any]) -> None:
    reply = await bus.call(command, body)
    assert reply["status"] == "accepted", (command, body, reply)


async def funded_customer(bus: BusClient, customer_id: str, account_id: str, funds: str) -> None:
    """A customer who pays with an open account holding ``funds`` EUR."""
    await accepted(bus, "OpenAccount", open_account(account_id))
    await accepted(bus, "Deposit", money(account_id, funds))
    await accepted(bus, "RegisterCustomer", customer(customer_id, account_id))


async def add_product(bus: BusClient, sku: str, price: str, stock: int) -> None:
    body = {"sku": sku, "name": f"Product {sku}", "price": price, "currency": "EUR"}
    await accepted(bus, "AddProduct", {**body, "stock": stock})


async def draft(bus: BusClient, order_id: str, customer_id: str, lines: dict[str, int]) -> None:
    """A draft order with one line per sku, in the given quantities."""
    await accepted(bus, "CreateOrder", {"order_id": order_id, "customer_id": customer_id})
    for sku, quantity in lines.items():
        line = {"order_id": order_id, "sku": sku, "quantity": quantity}
        await accepted(bus, "AddLineItem", line)


async def orders(url: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = await pg_fetch(url, "SELECT * FROM orders WHERE id = ANY($1)", ids)
    return {row["id"]: dict(row) for row in rows}


async def lines(url: str, order_id: str) -> list[tuple[str, int]]:
    """(sku, quantity) of the order's lines, in their order."""
    rows = await pg_fetch(
        url, "SELECT sku, quantity FROM order_lines WHERE order_id = $1 ORDER BY position", order_id
    )
    return [(row["sku"], row["quantity"]) for row in rows]


async def wait_for_orders(url: str, ids: list[str], timeout: float = 60) -> dict[str, Any]:
    """The orders' rows once every one has ended."""
    deadline = time.monotonic() + timeout
    found: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        found = await orders(url, ids)
        if len(found) == len(ids) and all(o["status"] in ENDED for o in found.values()):
            return found
        await asyncio.sleep(0.2)
    states = {order_id: o["status"] for order_id, o in found.items()}
    raise AssertionError(f"orders not ended within {timeout}s: {states}")


async def stock(url: str, sku: str) -> tuple[int, int]:
    """(on hand, held by any stored reservation) of a product: a committed or released
    reservation is gone, and none expires within a test (the hold is 15 minutes)."""
    [product] = await pg_fetch(url, "SELECT on_hand FROM products WHERE id = $1", sku)
    [held] = await pg_fetch(
        url,
        "SELECT COALESCE(SUM(quantity), 0) AS reserved FROM product_reservations WHERE sku = $1",
        sku,
    )
    return product["on_hand"], held["reserved"]


async def balances(url: str, ids: list[str]) -> dict[str, str]:
    rows = await pg_fetch(url, "SELECT id, balance FROM accounts WHERE id = ANY($1)", ids)
    return {row["id"]: f"{row['balance']:.2f}" for row in rows}


async def charges(url: str, order_ids: list[str]) -> list[str]:
    """The order id of every withdrawal an order saga made (one per MoneyWithdrawn row)."""
    rows = await pg_fetch(
        url,
        "SELECT causation_id FROM outbox WHERE event_type = $1 AND causation_id LIKE 'order-%'",
        WITHDRAWN,
    )
    charged = [row["causation_id"].split("/", 1)[0].removeprefix("order-") for row in rows]
    return sorted(order_id for order_id in charged if order_id in order_ids)


async def workflow_runs(
    client: Client, order_id: str, timeout: float = 10
) -> list[WorkflowExecutionStatus | None]:
    """The status of every run of the order's saga (``order-<id>``), once visibility,
    which lags the history a little, lists none of them as running."""
    query = f"WorkflowId = 'order-{order_id}'"
    deadline = time.monotonic() + timeout
    while True:
        runs = [run.status async for run in client.list_workflows(query)]
        if (runs and WorkflowExecutionStatus.RUNNING not in runs) or time.monotonic() > deadline:
            return runs
        await asyncio.sleep(0.2)


async def wait_for_completed(client: Client, order_ids: list[str], timeout: float = 30) -> None:
    """Every order's saga workflow has completed (it ends just after the order does)."""
    deadline = time.monotonic() + timeout
    waiting = list(order_ids)
    while waiting:
        statuses = {
            order_id: (await client.get_workflow_handle(f"order-{order_id}").describe()).status
            for order_id in waiting
        }
        waiting = [o for o, s in statuses.items() if s != WorkflowExecutionStatus.COMPLETED]
        if waiting and time.monotonic() > deadline:
            raise AssertionError(f"sagas not completed within {timeout}s: {statuses}")
        await asyncio.sleep(0.2 if waiting else 0)


@dataclass(frozen=True)
class BadInput:
    """A message a client should not have sent, and where and why it is dead-lettered."""

    case: str
    command: str
    dlq: str
    code: str
    body: dict[str, Any]
    message_id: str | None = None

    @property
    def queue(self) -> str:
        return self.dlq.removesuffix(".dlq")


def bad_input(order_id: str, account_id: str) -> list[BadInput]:
    """Bad input for the new commands: strict types, bad addresses, the saga's own commands
    and message ids."""
    line = {"order_id": order_id, "sku": "NOPE-1"}
    abroad = {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345"}
    orders, customers, unrouted = (
        "orders.commands.dlq",
        "customers.commands.dlq",
        ("commands.unrouted.dlq"),
    )
    invalid = "schema_validation_failed"
    return [
        BadInput("text-quantity", "AddLineItem", orders, invalid, {**line, "quantity": "2"}),
        BadInput("zero-quantity", "AddLineItem", orders, invalid, {**line, "quantity": 0}),
        BadInput("too-many-units", "AddLineItem", orders, invalid, {**line, "quantity": 1001}),
        BadInput("lower-case-sku", "AddLineItem", orders, invalid, {**line, "sku": "mug",
                 "quantity": 1}),
        BadInput("unknown-country", "RegisterCustomer", customers, invalid,
                 customer(new_id("c"), account_id, billing_address={**abroad, "country": "XX"})),
        BadInput("lower-case-country", "RegisterCustomer", customers, invalid,
                 customer(new_id("c"), account_id, billing_address={**abroad, "country": "de"})),
        BadInput("client-reserves", "ReserveStock", unrouted, "unknown_command",
                 {"sku": "NOPE-1", "order_id": order_id, "quantity": 1}),
        BadInput("client-records-outcome", "RecordOrderOutcome", unrouted, "unknown_command",
                 {"order_id": order_id, "state": "completed", "reason": ""}),
        BadInput("saga-message-id", "PlaceOrder", orders, "reserved_message_id",
                 {"order_id": order_id}, message_id=f"order-{order_id}/charge/1"),
    ]  # fmt: skip


#: What a worker log may show a traceback for: a saga step's refusal, which Temporal's
#: activity worker logs as a failed activity (the saga then rejects or compensates).
_REFUSAL = re.compile(r"^temporalio\.exceptions\.ApplicationError: BusinessRefusal: ")
_RAISED = re.compile(r"^[\w.]+(?:Error|Exception|Exit|Interrupt)\b.*$", re.MULTILINE)


def unexpected_errors(log: str) -> list[str]:
    """The worker log's ERROR lines and the exceptions it logged that are not refusals."""
    errors = [line for line in log.splitlines() if " ERROR " in line or " CRITICAL " in line]
    raised = [line for line in _RAISED.findall(log) if not _REFUSAL.match(line)]
    return errors + raised
