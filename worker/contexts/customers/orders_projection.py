"""The ``customer_orders`` projection: each customer's orders, one row per order.

It reads the orders context's published events by type and payload alone (this
context imports none of its modules): the contract is ``orders.<EventName>`` and
the payload's keys.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from worker.readside.declarations import LoggedEvent, Projection
from worker.readside.read_model import ReadModel

ORDERS = "orders."
CREATED = "OrderCreated"
PLACED = "OrderPlaced"
#: The status each of these events leaves the order in, and whether it ends the order
#: (the orders context's ended statuses: confirmed, rejected, cancelled, resolved,
#: conflicted; an order waiting for an operator has not ended).
STATUS_AFTER: Mapping[str, tuple[str, bool]] = {
    "OrderConfirmed": ("confirmed", True),
    "OrderRejected": ("rejected", True),
    "OrderCancelled": ("cancelled", True),
    "OrderNeedsOperator": ("needs_operator", False),
    "OrderResolved": ("resolved", True),
    "OrderConflicted": ("conflicted", True),
}
#: Events that change no column but the version: a line's new quantity, a cancellation
#: asked of the saga (the order stays placed until the saga ends it), the charge mark.
VERSION_ONLY = ("OrderItemUpdated", "OrderCancellationRequested", "OrderChargeStarted")

ORDERS_DDL = (
    "CREATE TABLE {table} ("
    " order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, status TEXT NOT NULL,"
    " total TEXT, currency TEXT NOT NULL, lines INTEGER NOT NULL,"
    " placed_at TEXT, ended_at TEXT, version BIGINT NOT NULL)",
    "CREATE INDEX {table}_by_customer ON {table} (customer_id, order_id)",
)
INSERT_ORDER = (
    "INSERT INTO {customer_orders} (order_id, customer_id, status, total, currency, lines,"
    " placed_at, ended_at, version) VALUES (?, ?, 'draft', NULL, ?, 0, NULL, NULL, ?)"
)
ORDERS_OF = (
    "SELECT order_id, status, total, currency, lines, placed_at, ended_at"
    " FROM {customer_orders} WHERE customer_id = ? ORDER BY order_id"
)

Apply = Callable[[LoggedEvent, ReadModel], Awaitable[None]]


def adds_a_line(payload: Mapping[str, Any]) -> bool:
    """Whether an ``OrderItemAdded`` opened a line: a sku already on the order adds its
    units to that line, which then holds more than the units just added."""
    return bool(payload["line_quantity"] == payload["quantity"])


async def _update(
    event: LoggedEvent, model: ReadModel, assignments: str = "", params: Sequence[Any] = ()
) -> None:
    statement = f"UPDATE {{customer_orders}} SET {assignments}version = ? WHERE order_id = ?"
    await model.execute(statement, [*params, event.aggregate_version, event.aggregate_id])


async def _created(event: LoggedEvent, model: ReadModel) -> None:
    payload, version = event.payload, event.aggregate_version
    params = [event.aggregate_id, payload["customer_id"], payload["currency"], version]
    await model.execute(INSERT_ORDER, params)


async def _item_added(event: LoggedEvent, model: ReadModel) -> None:
    await _update(event, model, "lines = lines + ?, ", [int(adds_a_line(event.payload))])


async def _item_removed(event: LoggedEvent, model: ReadModel) -> None:
    await _update(event, model, "lines = lines - 1, ")


async def _placed(event: LoggedEvent, model: ReadModel) -> None:
    payload = event.payload
    columns = "status = 'placed', total = ?, currency = ?, lines = ?, placed_at = ?, "
    params = [payload["total"], payload["currency"], len(payload["lines"]), event.occurred_at]
    await _update(event, model, columns, params)


def _status(status: str, ends: bool) -> Apply:
    async def change(event: LoggedEvent, model: ReadModel) -> None:
        ended_at = "ended_at = ?, " if ends else ""
        params = [status, event.occurred_at] if ends else [status]
        await _update(event, model, f"status = ?, {ended_at}", params)

    return change


async def _version_only(event: LoggedEvent, model: ReadModel) -> None:
    await _update(event, model)


APPLY_BY_EVENT: Mapping[str, Apply] = {
    CREATED: _created,
    "OrderItemAdded": _item_added,
    "OrderItemRemoved": _item_removed,
    PLACED: _placed,
    **{name: _status(status, ends) for name, (status, ends) in STATUS_AFTER.items()},
    **{name: _version_only for name in VERSION_ONLY},
}


async def apply(event: LoggedEvent, model: ReadModel) -> None:
    """One order event applied to its order's row (an order's events come in version order)."""
    await APPLY_BY_EVENT[event.event_type.removeprefix(ORDERS)](event, model)


async def orders_of(model: ReadModel, customer_id: str) -> list[dict[str, Any]]:
    """The customer's orders, by order id."""
    return await model.fetch(ORDERS_OF, [customer_id])


CUSTOMER_ORDERS = Projection(
    name="customer_orders",
    events=tuple(f"{ORDERS}{name}" for name in APPLY_BY_EVENT),
    tables={"customer_orders": ORDERS_DDL},
    apply=apply,
)
