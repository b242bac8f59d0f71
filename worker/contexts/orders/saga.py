"""The order saga as the orders context declares it to the framework."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from domain.orders.order import ENDED
from worker.contexts.orders.commands import PlaceOrder, RecordOrderOutcome
from worker.sagas.declaration import CONFLICTED, SagaDeclaration, SagaRecord
from workflows.orders.activities import OrderActivities
from workflows.orders.shared import ORDER_ID, WORKFLOW_NAME, OrderInput, OrderLine
from workflows.orders.workflows import OrderSaga
from workflows.saga.types import CommandDispatcher


def _activities(dispatcher: CommandDispatcher) -> Sequence[Callable[..., Any]]:
    a = OrderActivities(dispatcher)
    return [
        a.reserve_stock,
        a.release_stock,
        a.start_charge,
        a.charge,
        a.refund_charge,
        a.commit_stock,
        a.record_order_outcome,
    ]


def _input(placed: Mapping[str, Any], correlation_id: str | None) -> OrderInput:
    """From an OrderPlaced event's payload (its lines' prices stay on the order)."""
    return OrderInput(
        order_id=placed["order_id"],
        customer_id=placed["customer_id"],
        payment_account_id=placed["payment_account_id"],
        currency=placed["currency"],
        total=placed["total"],
        lines=[OrderLine(sku=line["sku"], quantity=line["quantity"]) for line in placed["lines"]],
        correlation_id=correlation_id,
    )


def _business_id(order: OrderInput) -> str:
    return order.order_id


def _summary(order: OrderInput) -> str:
    count = len(order.lines)
    lines = f"{count} line{'' if count == 1 else 's'}"
    return (
        f"Order {order.order_id}: {lines}, {order.total} {order.currency} "
        f"for customer {order.customer_id}"
    )


def _conflicted(order_id: str, reason: str) -> tuple[str, dict[str, Any]]:
    fields = {"order_id": order_id, "state": CONFLICTED, "reason": reason}
    return RecordOrderOutcome.name(), fields


ORDER_SAGA = SagaDeclaration(
    kind="order",
    workflow=OrderSaga,
    workflow_name=WORKFLOW_NAME,
    activities=_activities,
    started_by="orders.OrderPlaced",
    input_type=OrderInput,
    start_input=_input,
    business_id=_business_id,
    summary=_summary,
    id_attribute=ORDER_ID,
    record=SagaRecord(
        table="orders",
        ended=frozenset(status.value for status in ENDED),
        state_column="status",
        succeeded="confirmed",
    ),
    conflict_command=_conflicted,
    requested_by=(PlaceOrder,),
    task_queue="orders",
)
