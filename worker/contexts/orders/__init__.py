"""Orders: a customer's draft of lines, priced and placed, then settled by the order saga
(reserve the stock, charge the customer's account, commit the stock)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.orders import events
from worker.context import BoundedContext
from worker.contexts.orders.checks import ORDERS_CHECK
from worker.contexts.orders.handlers import HANDLERS
from worker.contexts.orders.persistence import ORDERS
from worker.contexts.orders.resources import RESOURCES
from worker.contexts.orders.saga import ORDER_SAGA
from worker.ops.check.liveness import SagaLivenessCheck

if TYPE_CHECKING:
    import typer


def _cli() -> typer.Typer:
    """Imported on demand: the worker itself never needs its CLI."""
    from worker.contexts.orders.cli import orders_app

    return orders_app


CONTEXT = BoundedContext(
    name="orders",
    handlers=HANDLERS,
    aggregates=(ORDERS,),
    events=(
        events.OrderCreated,
        events.OrderItemAdded,
        events.OrderItemUpdated,
        events.OrderItemRemoved,
        events.OrderPlaced,
        events.OrderCancellationRequested,
        events.OrderChargeStarted,
        events.OrderConfirmed,
        events.OrderRejected,
        events.OrderCancelled,
        events.OrderNeedsOperator,
        events.OrderResolved,
        events.OrderConflicted,
    ),
    sagas=(ORDER_SAGA,),
    # A draft asks for no saga yet; any other order short of its end has a live one.
    checks=(ORDERS_CHECK, SagaLivenessCheck(ORDER_SAGA, before_start=frozenset({"draft"}))),
    models="worker.contexts.orders.persistence",
    migrations="worker.contexts.orders.migrations",
    cli=_cli,
    resources=RESOURCES,
)
