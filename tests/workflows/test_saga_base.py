"""The saga base carries a second context's saga (orders) that writes only its process.

On the time-skipping test server, like the transfer saga's tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workflows.order_saga import OrderSaga
from tests.workflows.orders import OrderActivities, OrderInput, OrderStatus, Shop, StockStep
from tests.workflows.support import WAIT, result, steps, unique, wait_for_state
from workflows.saga.types import SAGA_STATE, SagaState

D = Decimal
OrderHandle = WorkflowHandle[OrderSaga, OrderStatus]


def shop(*, refusing: set[str] | None = None, broken: set[str] | None = None) -> Shop:
    return Shop(
        stock={"sku-1": 10},
        balances={"carol": D("50.00")},
        refusing=refusing or set(),
        broken=broken or set(),
    )


def order_worker(client: Client, queue: str, bus: Shop, **doubles: Any) -> Worker:
    """The order saga with its real activities on ``bus``; ``doubles`` replace some by name."""
    real = OrderActivities(bus)
    activities: dict[str, Any] = {
        "reserve_stock": real.reserve_stock,
        "release_stock": real.release_stock,
        "charge": real.charge,
        "refund_charge": real.refund_charge,
        "record_order_outcome": real.record_order_outcome,
    }
    activities.update(doubles)
    return Worker(
        client,
        task_queue=queue,
        workflows=[OrderSaga],
        activities=list(activities.values()),
        default_heartbeat_throttle_interval=timedelta(milliseconds=100),
        max_heartbeat_throttle_interval=timedelta(milliseconds=100),
        graceful_shutdown_timeout=timedelta(seconds=2),
    )


async def start(client: Client, queue: str) -> OrderHandle:
    order = OrderInput(
        order_id=unique("o"), sku="sku-1", quantity=3, account_id="carol", amount="20.00"
    )
    return await client.start_workflow(
        OrderSaga.run, order, id=f"order-{order.order_id}", task_queue=queue
    )


async def ended_cancelled(handle: OrderHandle) -> bool:
    with pytest.raises(WorkflowFailureError) as ended:
        await result(handle)
    return isinstance(ended.value.cause, CancelledError)


async def test_an_order_reserves_then_charges_with_keys_of_its_own_workflow_id(
    env: WorkflowEnvironment,
) -> None:
    bus, queue = shop(), unique("tq")
    async with order_worker(env.client, queue, bus):
        handle = await start(env.client, queue)
        final = await result(handle)
        described = await handle.describe()

    assert final.state == SagaState.COMPLETED
    assert final.order_id == handle.id.removeprefix("order-")
    assert (bus.stock, bus.balances) == ({"sku-1": 7}, {"carol": D("30.00")})
    assert bus.calls == [
        ("Reserve", f"{handle.id}/reserve_stock/1"),
        ("Charge", f"{handle.id}/charge/1"),
        ("RecordOrderOutcome", f"{handle.id}/outcome/completed/1"),
    ]
    assert described.typed_search_attributes.get(SAGA_STATE) == "completed"


async def test_a_refused_first_step_rejects_the_order_with_nothing_to_undo(
    env: WorkflowEnvironment,
) -> None:
    bus, queue = shop(refusing={"Reserve"}), unique("tq")
    async with order_worker(env.client, queue, bus):
        final = await result(await start(env.client, queue))

    assert final.state == SagaState.REJECTED
    assert bus.commands() == ["Reserve", "RecordOrderOutcome"]
    assert [state for _, state, _ in bus.outcomes] == ["rejected"]


async def test_a_refused_charge_is_compensated_by_releasing_the_stock_alone(
    env: WorkflowEnvironment,
) -> None:
    bus, queue = shop(refusing={"Charge"}), unique("tq")
    async with order_worker(env.client, queue, bus):
        final = await result(await start(env.client, queue))

    assert final.state == SagaState.COMPENSATED
    # A refusal applied nothing: the charge's own undo (a refund) is not run.
    assert bus.commands() == ["Reserve", "Charge", "Release", "RecordOrderOutcome"]
    assert (bus.stock, bus.balances) == ({"sku-1": 10}, {"carol": D("50.00")})
    assert ("charge", "refused") in steps(final)
    [(_, state, reason)] = bus.outcomes
    assert (state, reason) == ("compensated", "refused: Charge")


async def test_a_charge_out_of_retries_is_undone_newest_first(env: WorkflowEnvironment) -> None:
    bus, queue = shop(broken={"Charge"}), unique("tq")
    async with order_worker(env.client, queue, bus):
        final = await result(await start(env.client, queue))

    assert final.state == SagaState.COMPENSATED
    # A failed step may have applied: its refund runs, before the release of the stock.
    assert bus.commands() == ["Reserve", "Charge", "Refund", "Release", "RecordOrderOutcome"]
    assert (bus.stock, bus.balances) == ({"sku-1": 10}, {"carol": D("50.00")})
    assert steps(final, "refund_charge") == [
        ("refund_charge", "started"),
        ("refund_charge", "succeeded"),
    ]


async def test_a_release_that_cannot_succeed_waits_for_an_operator(
    env: WorkflowEnvironment,
) -> None:
    bus, queue = shop(refusing={"Charge", "Release"}), unique("tq")
    async with order_worker(env.client, queue, bus):
        handle = await start(env.client, queue)
        waiting = await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        described = await handle.describe()
        await handle.terminate("test over")

    assert waiting.waiting_step == "release_stock"
    assert waiting.last_error == "refused: Release"
    assert described.typed_search_attributes.get(SAGA_STATE) == "needs_operator"
    assert bus.outcomes == [
        (
            handle.id.removeprefix("order-"),
            "needs_operator",
            "release_stock failed: refused: Release",
        )
    ]


async def test_a_cancellation_while_a_release_waits_for_an_operator_releases_again_at_once(
    env: WorkflowEnvironment,
) -> None:
    bus, queue = shop(refusing={"Charge", "Release"}), unique("tq")
    async with order_worker(env.client, queue, bus):
        handle = await start(env.client, queue)
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        bus.refusing.discard("Release")
        await handle.cancel()
        assert await ended_cancelled(handle)
        final = await handle.query(OrderSaga.status)

    # The refused release used key 1; the retry is a new command.
    assert [key for command, key in bus.calls if command == "Release"] == [
        f"{handle.id}/release_stock/1",
        f"{handle.id}/release_stock/2",
    ]
    assert bus.stock == {"sku-1": 10}
    assert [(s, r) for _, s, r in bus.outcomes] == [
        ("needs_operator", "release_stock failed: refused: Release"),
        ("compensated", "the saga was cancelled"),
    ]
    assert final.state == SagaState.COMPENSATED
    assert final.waiting_step is None


def heartbeating_release(
    bus: Shop, reached: asyncio.Event, go: asyncio.Event, cancelled: asyncio.Event
) -> Callable[..., Any]:
    """``release_stock`` that heartbeats until ``go``: it would see a cancellation."""

    @activity.defn(name="release_stock")
    async def release_stock(step: StockStep) -> None:
        reached.set()
        try:
            while not go.is_set():
                activity.heartbeat()
                await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        await OrderActivities(bus).release_stock(step)

    return release_stock


async def test_a_cancellation_during_a_compensation_lets_it_finish_then_ends_cancelled(
    env: WorkflowEnvironment,
) -> None:
    bus, queue = shop(refusing={"Charge"}), unique("tq")
    reached, go, cancelled = asyncio.Event(), asyncio.Event(), asyncio.Event()
    double = heartbeating_release(bus, reached, go, cancelled)
    async with order_worker(env.client, queue, bus, release_stock=double):
        handle = await start(env.client, queue)
        await asyncio.wait_for(reached.wait(), WAIT)
        await handle.cancel()
        await asyncio.sleep(0.5)  # several heartbeats: a cancellation would have reached it
        go.set()
        assert await ended_cancelled(handle)
        history = await handle.fetch_history()

    assert not cancelled.is_set()
    assert bus.stock == {"sku-1": 10}
    # It changed nothing of the compensation, so the reason stays the refusal.
    assert [(s, r) for _, s, r in bus.outcomes] == [("compensated", "refused: Charge")]
    kinds = {event.event_type for event in history.events}
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED not in kinds
    assert EventType.EVENT_TYPE_MARKER_RECORDED in kinds  # the shielding patch
