"""The order saga on an in-memory shop: the time-skipping test server, and the dev server
for the operators' updates (the test server lacks updates)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import CancelledError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from tests.workflows.order_fakes import Hold, Shop
from tests.workflows.record_order_histories import HISTORIES, SCENARIOS, load
from tests.workflows.support import WAIT, result, skip_to_result, steps, unique, wait_for_state
from worker.contexts.orders.saga import ORDER_SAGA
from worker.sagas.client import ensure_search_attributes
from worker.sagas.starter import start_saga
from workflows.orders.activities import OrderActivities
from workflows.orders.shared import (
    ORDER_ID,
    OrderInput,
    OrderLine,
    OrderStatus,
    ReleaseStep,
    workflow_id,
)
from workflows.orders.workflows import OrderSaga, coded
from workflows.saga.types import SAGA_STATE, OperatorAction, SagaState

D = Decimal
Handle = WorkflowHandle[OrderSaga, OrderStatus]


@pytest.fixture(scope="session")
async def shop_env(env: WorkflowEnvironment) -> WorkflowEnvironment:
    """The time-skipping server, knowing the ``OrderId`` search attribute (it cannot list them)."""
    request = AddSearchAttributesRequest(
        namespace=env.client.namespace,
        search_attributes={ORDER_ID.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD},
    )
    with contextlib.suppress(RPCError):  # registered by an earlier module of this session
        await env.client.operator_service.add_search_attributes(request)
    return env


@pytest.fixture(scope="session")
async def dev(dev_client: Client) -> Client:
    await ensure_search_attributes(dev_client, dev_client.namespace, (ORDER_ID,))
    return dev_client


def an_order(**lines: int) -> OrderInput:
    """An order of 12.50 EUR from customer c1 (``SKU_1=3``: 3 of SKU-1)."""
    return OrderInput(
        order_id=unique("o"),
        customer_id="c1",
        payment_account_id="acc-c1",
        currency="EUR",
        total="12.50",
        lines=[OrderLine(sku=sku.replace("_", "-"), quantity=q) for sku, q in lines.items()],
        correlation_id=unique("corr"),
    )


def order_worker(client: Client, queue: str, shop: Shop, **doubles: Callable[..., Any]) -> Worker:
    """The declared saga and activities on ``shop``; ``doubles`` replace some by name."""
    declared = ORDER_SAGA.activities(shop)
    named: dict[str | None, Callable[..., Any]] = {
        activity._Definition.must_from_callable(a).name: a for a in declared
    }
    named.update(doubles)
    return Worker(
        client,
        task_queue=queue,
        workflows=[OrderSaga],
        activities=list(named.values()),
        max_heartbeat_throttle_interval=timedelta(milliseconds=100),
        default_heartbeat_throttle_interval=timedelta(milliseconds=100),
        graceful_shutdown_timeout=timedelta(seconds=2),
    )


@asynccontextmanager
async def saga(
    client: Client, shop: Shop, order: OrderInput, **doubles: Callable[..., Any]
) -> AsyncIterator[Handle]:
    """A worker on a queue of its own and the order's saga started there, as the starter does."""
    queue = unique("oq")
    async with order_worker(client, queue, shop, **doubles):
        await start_saga(client, order, queue, saga=ORDER_SAGA)
        handle = client.get_workflow_handle_for(OrderSaga.run, workflow_id(order.order_id))
        try:
            yield handle
        finally:
            if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                await handle.terminate("test over")


async def run(env: WorkflowEnvironment, shop: Shop, order: OrderInput) -> OrderStatus:
    async with saga(env.client, shop, order) as handle:
        final = await skip_to_result(env, handle)
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    return OrderStatus.model_validate(final.model_dump())


def operator(reason: str, name: str = "alice") -> OperatorAction:
    return OperatorAction(reason=reason, operator=name)


def ids(shop: Shop, command: str) -> list[str]:
    return [message_id for _, _, message_id in shop.commands(command)]


# --- the process -----------------------------------------------------------------------


async def test_an_order_reserves_charges_and_commits_then_confirms_the_order(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10, SKU_2=5), an_order(SKU_1=3, SKU_2=5)
    async with saga(shop_env.client, shop, order) as handle:
        final = await result(handle)
        described = await handle.describe()

    assert final.state == SagaState.COMPLETED
    assert shop.order(order.order_id).status == "confirmed"
    assert shop.outcomes == [(order.order_id, "completed", "")]
    assert shop.on_hand() == {"SKU-1": 7, "SKU-2": 0}
    assert shop.held("SKU-1") == shop.held("SKU-2") == {}
    assert shop.balances["acc-c1"] == D("87.50")
    assert [s for s, status in steps(final) if status == "succeeded"] == [
        "reserve_stock",
        "start_charge",
        "charge",
        "commit_stock",
        "outcome:completed",
    ]
    wid = workflow_id(order.order_id)
    assert ids(shop, "ReserveStock") == [
        f"{wid}/reserve_stock/1/SKU-1",
        f"{wid}/reserve_stock/1/SKU-2",
        f"{wid}/commit_stock/1/renew/SKU-1",
        f"{wid}/commit_stock/1/renew/SKU-2",
    ]
    assert ids(shop, "CommitStock") == [
        f"{wid}/commit_stock/1/SKU-1",
        f"{wid}/commit_stock/1/SKU-2",
    ]
    assert ids(shop, "Withdraw") == [f"{wid}/charge/1"]
    assert all(type(q) is int for q in shop.quantities)  # JSON integers, not strings
    assert described.status == WorkflowExecutionStatus.COMPLETED
    assert described.typed_search_attributes.get(SAGA_STATE) == "completed"
    assert described.typed_search_attributes.get(ORDER_ID) == order.order_id
    assert await described.static_summary() == (
        f"Order {order.order_id}: 2 lines, 12.50 EUR for customer c1"
    )


async def test_an_out_of_stock_line_rejects_the_order_and_releases_the_lines_reserved_before(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10, SKU_2=2), an_order(SKU_1=3, SKU_2=5)
    final = await run(shop_env, shop, order)

    assert final.state == SagaState.REJECTED
    [(_, state, reason)] = shop.outcomes
    assert state == "rejected"
    assert reason.startswith("out_of_stock: ")
    assert shop.order(order.order_id).status == "rejected"
    assert shop.held("SKU-1") == shop.held("SKU-2") == {}
    assert ids(shop, "ReleaseStock") == [
        f"{workflow_id(order.order_id)}/reserve_stock/1/release/SKU-1"
    ]
    assert shop.commands("StartOrderCharge") == shop.commands("Withdraw") == []
    assert steps(final, "release_stock") == []  # the refused step undid its own part
    assert ("reserve_stock", "refused") in steps(final)


async def test_a_refused_line_whose_own_release_fails_is_never_left_rejected_with_stock_held(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10, SKU_2=2), an_order(SKU_1=3, SKU_2=5)
    shop.fail("ReleaseStock", exhausted=True)
    async with saga(shop_env.client, shop, order) as handle:
        waiting = await wait_for_state(
            handle, SagaState.NEEDS_OPERATOR, lambda: shop_env.sleep(timedelta(seconds=5))
        )

    assert ("reserve_stock", "failed") in steps(waiting)  # retried, then compensated
    assert waiting.waiting_step == "release_stock"
    assert [state for _, state, _ in shop.outcomes] == ["needs_operator"]
    assert shop.held("SKU-1") == {order.order_id: 3}


@pytest.mark.parametrize(
    ("frozen", "code"), [(False, "insufficient_funds"), (True, "account_frozen")]
)
async def test_a_refused_charge_rejects_the_order_and_releases_its_stock(
    shop_env: WorkflowEnvironment, frozen: bool, code: str
) -> None:
    balance = "100.00" if frozen else "5.00"
    shop, order = Shop.with_stock(balance=balance, SKU_1=10), an_order(SKU_1=3)
    if frozen:
        shop.frozen.add("acc-c1")
    final = await run(shop_env, shop, order)

    assert final.state == SagaState.COMPENSATED
    [(_, state, reason)] = shop.outcomes
    assert state == "compensated"
    assert reason.startswith(f"{code}: ")
    assert (shop.order(order.order_id).status, shop.order(order.order_id).reason) == (
        "rejected",
        reason,
    )
    assert shop.held("SKU-1") == {}
    assert shop.on_hand() == {"SKU-1": 10}
    assert shop.balances["acc-c1"] == D(balance)
    assert shop.commands("Deposit") == []  # the refused charge's refund was dropped
    assert steps(final, "refund_charge") == []
    assert ids(shop, "ReleaseStock") == [f"{workflow_id(order.order_id)}/release_stock/1/SKU-1"]


async def test_a_reservation_that_keeps_failing_is_released_and_can_no_longer_land_late(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10, SKU_2=10), an_order(SKU_1=3, SKU_2=4)
    shop.fail("ReserveStock", "SKU-2", exhausted=True)
    final = await run(shop_env, shop, order)
    late = f"{workflow_id(order.order_id)}/reserve_stock/1/SKU-2"
    fields = {"sku": "SKU-2", "order_id": order.order_id, "quantity": 4}
    shop.faults.clear()
    landed = await shop.dispatch("ReserveStock", fields, late, None)

    assert final.state == SagaState.COMPENSATED
    assert ("reserve_stock", "failed") in steps(final)
    assert shop.order(order.order_id).status == "rejected"
    # Out of retries: the last error, under the code of a step that failed.
    assert shop.order(order.order_id).reason == (
        f"step_failed: transient failure #1 of ReserveStock ({late})"
    )
    assert shop.held("SKU-1") == shop.held("SKU-2") == {}
    # The release settled the unanswered line first: its attempt, if still running, is void.
    assert (landed.status, landed.error_code) == ("rejected", "superseded")


async def test_an_order_cancelled_before_its_charge_ends_cancelled_having_charged_nothing(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10), an_order(SKU_1=3)
    cancel = {"order_id": order.order_id, "reason": "changed my mind"}
    assert (await shop.dispatch("CancelOrder", cancel, unique("msg"), None)).status == "accepted"
    final = await run(shop_env, shop, order)

    assert final.state == SagaState.COMPENSATED
    [(_, state, reason)] = shop.outcomes
    assert state == "compensated"
    assert reason.startswith("order_cancelled: ")
    assert (shop.order(order.order_id).status, shop.order(order.order_id).reason) == (
        "cancelled",
        "changed my mind",
    )
    assert shop.held("SKU-1") == {}
    assert shop.commands("Withdraw") == []
    assert shop.balances["acc-c1"] == D("100.00")
    assert ("start_charge", "refused") in steps(final)
    assert ("release_stock", "succeeded") in steps(final)


async def test_a_lapsed_reservation_whose_stock_is_still_there_is_renewed_and_confirmed(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10), an_order(SKU_1=3)
    shop.after["Withdraw"] = lambda: shop.lapse(order.order_id)
    final = await run(shop_env, shop, order)

    assert final.state == SagaState.COMPLETED
    assert shop.order(order.order_id).status == "confirmed"
    assert shop.inbox[f"{workflow_id(order.order_id)}/commit_stock/1/renew/SKU-1"].status == (
        "accepted"
    )
    assert shop.on_hand() == {"SKU-1": 7}
    assert shop.held("SKU-1") == {}
    assert shop.balances["acc-c1"] == D("87.50")


async def test_a_lapsed_reservation_whose_stock_went_elsewhere_refunds_and_releases(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10, SKU_2=10), an_order(SKU_1=3, SKU_2=4)

    def another_order_takes_the_stock() -> None:
        shop.lapse(order.order_id)
        shop.products["SKU-2"].holds["o-other"] = Hold(8)

    shop.after["Withdraw"] = another_order_takes_the_stock
    final = await run(shop_env, shop, order)

    assert final.state == SagaState.COMPENSATED
    [(_, state, reason)] = shop.outcomes
    assert state == "compensated"
    assert reason.startswith("reservation_expired: SKU-2: out_of_stock: ")
    assert shop.order(order.order_id).status == "rejected"
    assert shop.balances["acc-c1"] == D("100.00")
    assert shop.on_hand() == {"SKU-1": 10, "SKU-2": 10}
    assert shop.held("SKU-1") == {}
    assert shop.held("SKU-2") == {"o-other": 8}
    assert shop.commands("CommitStock") == []  # every line is held before any is taken
    wid = workflow_id(order.order_id)
    assert ids(shop, "Deposit") == [f"{wid}/refund_charge/1"]
    assert [s for s, status in steps(final) if status == "succeeded"][-3:] == [
        "refund_charge",
        "release_stock",
        "outcome:compensated",
    ]


async def test_a_partly_committed_order_whose_other_line_expired_gets_its_committed_stock_back(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10, SKU_2=10), an_order(SKU_1=3, SKU_2=4)
    shop.fail("CommitStock", "SKU-2", times=1)  # the first attempt dies after SKU-1

    def the_holds_lapse_and_another_order_takes_sku_2() -> None:
        shop.lapse(order.order_id)
        shop.products["SKU-2"].holds["o-other"] = Hold(8)

    shop.after["CommitStock"] = the_holds_lapse_and_another_order_takes_sku_2
    final = await run(shop_env, shop, order)

    wid = workflow_id(order.order_id)
    assert final.state == SagaState.COMPENSATED
    # The retry's renewals were answered from the inbox: nothing was held again.
    assert ids(shop, "ReserveStock").count(f"{wid}/commit_stock/1/renew/SKU-2") == 2
    assert shop.inbox[f"{wid}/commit_stock/1/SKU-1"].status == "accepted"
    assert shop.inbox[f"{wid}/commit_stock/1/SKU-2"].error_code == "reservation_expired"
    [(_, state, reason)] = shop.outcomes
    assert state == "compensated"
    assert reason.startswith("reservation_expired: ")
    assert (shop.order(order.order_id).status, shop.order(order.order_id).reason) == (
        "rejected",
        reason,
    )
    assert shop.balances["acc-c1"] == D("100.00")
    assert ids(shop, "Deposit") == [f"{wid}/refund_charge/1"]
    assert shop.on_hand() == {"SKU-1": 10, "SKU-2": 10}  # SKU-1's 3 units are back
    assert shop.held("SKU-1") == {}
    assert shop.held("SKU-2") == {"o-other": 8}
    assert ids(shop, "ReturnStock") == [f"{wid}/release_stock/1/return/SKU-1"]
    assert ids(shop, "ReleaseStock") == [f"{wid}/release_stock/1/SKU-2"]
    assert [s for s, status in steps(final) if status == "succeeded"][-3:] == [
        "refund_charge",
        "release_stock",
        "outcome:compensated",
    ]


async def test_a_line_returned_under_an_earlier_release_key_is_not_returned_again(
    shop_env: WorkflowEnvironment,
) -> None:
    shop = Shop.with_stock(SKU_1=10, SKU_2=10)
    wid, committed = workflow_id("o-1"), {"sku": "SKU-1", "order_id": "o-1", "quantity": 3}
    await shop.dispatch("CommitStock", committed, f"{wid}/commit_stock/1/SKU-1", None)
    activities = OrderActivities(shop)
    lines = [OrderLine(sku="SKU-1", quantity=3), OrderLine(sku="SKU-2", quantity=4)]

    for key in (f"{wid}/release_stock/1", f"{wid}/release_stock/2"):
        release = ReleaseStep(
            order_id="o-1", message_id=key, lines=lines, commit_keys=[f"{wid}/commit_stock/1"]
        )
        await activities.release_stock(release)

    assert ids(shop, "ReturnStock") == [f"{wid}/release_stock/1/return/SKU-1"]
    assert shop.on_hand() == {"SKU-1": 10, "SKU-2": 10}
    assert ids(shop, "ReleaseStock") == [
        f"{wid}/release_stock/1/SKU-2",
        f"{wid}/release_stock/2/SKU-2",
    ]


async def test_a_cancel_order_after_the_charge_mark_is_refused_and_the_order_confirms(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10), an_order(SKU_1=3)
    charge = shop.gate("Withdraw")
    async with saga(shop_env.client, shop, order) as handle:
        await asyncio.wait_for(shop.gate_reached["Withdraw"].wait(), WAIT)
        cancel = {"order_id": order.order_id, "reason": "changed my mind"}
        refused = await shop.dispatch("CancelOrder", cancel, unique("msg"), None)
        charge.set()
        final = await skip_to_result(shop_env, handle)

    assert (refused.status, refused.error_code) == ("rejected", "order_not_cancellable")
    assert final.state == SagaState.COMPLETED
    assert (shop.order(order.order_id).status, shop.order(order.order_id).reason) == (
        "confirmed",
        "",
    )
    assert ids(shop, "Withdraw") == [f"{workflow_id(order.order_id)}/charge/1"]
    assert shop.balances["acc-c1"] == D("87.50")  # charged once, never refunded
    assert shop.commands("Deposit") == []
    assert shop.on_hand() == {"SKU-1": 7}


async def test_a_refused_line_whose_own_release_keeps_failing_is_compensated_as_step_failed(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10, SKU_2=2), an_order(SKU_1=3, SKU_2=5)
    shop.fail("ReleaseStock", "SKU-1", exhausted=True, times=5)  # every reserve_stock attempt
    final = await run(shop_env, shop, order)

    assert final.state == SagaState.COMPENSATED
    assert [status for _, status in steps(final, "reserve_stock")][-1] == "failed"
    [(_, state, reason)] = shop.outcomes
    assert state == "compensated"
    assert reason.startswith(
        "step_failed: releasing the lines reserved: transient failure #5 of ReleaseStock"
    )
    assert shop.order(order.order_id).status == "rejected"
    assert shop.held("SKU-1") == shop.held("SKU-2") == {}


@pytest.mark.parametrize(
    ("reason", "recorded"),
    [
        ("out_of_stock: SKU-2: 2 < 5", "out_of_stock: SKU-2: 2 < 5"),
        (
            "reservation_expired: SKU-2: out_of_stock: x",
            "reservation_expired: SKU-2: out_of_stock: x",
        ),
        (
            "transient failure #5 of Withdraw (k)",
            "step_failed: transient failure #5 of Withdraw (k)",
        ),
        ("releasing the lines reserved: down", "step_failed: releasing the lines reserved: down"),
        ("Unavailable: down", "step_failed: Unavailable: down"),
        ("compensated by an operator: bank down", "operator_compensated: bank down"),
        ("the saga was cancelled", "saga_cancelled: the saga was cancelled"),
    ],
)
def test_an_order_rejected_or_compensated_gets_a_reason_that_starts_with_a_code(
    reason: str, recorded: str
) -> None:
    assert coded(reason) == recorded


async def test_a_reservation_whose_reply_was_lost_is_answered_from_the_inbox_and_applied_once(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10), an_order(SKU_1=3)
    shop.fail("ReserveStock", "SKU-1", times=2, after_apply=True)
    final = await run(shop_env, shop, order)

    assert final.state == SagaState.COMPLETED
    assert shop.on_hand() == {"SKU-1": 7}
    assert (
        ids(shop, "ReserveStock")[:3]
        == [f"{workflow_id(order.order_id)}/reserve_stock/1/SKU-1"] * 3
    )


# --- what waits for an operator ----------------------------------------------------------


async def test_a_release_that_keeps_failing_waits_for_an_operator(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(balance="5.00", SKU_1=10), an_order(SKU_1=3)
    shop.fail("ReleaseStock", exhausted=True)
    async with saga(shop_env.client, shop, order) as handle:
        waiting = await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        described = await handle.describe()

    assert waiting.waiting_step == "release_stock"
    assert waiting.last_error is not None
    assert "transient failure" in waiting.last_error
    assert described.status == WorkflowExecutionStatus.RUNNING
    assert described.typed_search_attributes.get(SAGA_STATE) == "needs_operator"
    [(_, state, reason)] = shop.outcomes
    assert (state, shop.order(order.order_id).status) == ("needs_operator", "needs_operator")
    assert reason.startswith("release_stock failed: ")


async def test_a_refund_that_keeps_failing_waits_for_an_operator_before_the_stock_is_released(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10), an_order(SKU_1=3)
    shop.fail("Deposit", exhausted=True)

    def stock_gone() -> None:
        shop.lapse(order.order_id)
        shop.products["SKU-1"].holds["o-other"] = Hold(10)

    shop.after["Withdraw"] = stock_gone
    async with saga(shop_env.client, shop, order) as handle:
        waiting = await wait_for_state(handle, SagaState.NEEDS_OPERATOR)

    assert waiting.waiting_step == "refund_charge"
    assert ("commit_stock", "refused") in steps(waiting)
    assert steps(waiting, "release_stock") == []  # undone newest first: the refund waits
    assert shop.balances["acc-c1"] == D("87.50")
    assert [state for _, state, _ in shop.outcomes] == ["needs_operator"]


async def test_a_commit_that_keeps_failing_waits_for_an_operator_rather_than_undoing(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10, SKU_2=10), an_order(SKU_1=3, SKU_2=4)
    shop.fail("CommitStock", "SKU-2", exhausted=True)
    async with saga(shop_env.client, shop, order) as handle:
        waiting = await wait_for_state(handle, SagaState.NEEDS_OPERATOR)

    assert waiting.waiting_step == "commit_stock"
    assert shop.on_hand() == {"SKU-1": 7, "SKU-2": 10}  # committed stock cannot be released
    assert shop.commands("Deposit") == []


async def test_retry_of_a_release_that_works_again_ends_the_order_rejected(dev: Client) -> None:
    shop, order = Shop.with_stock(balance="5.00", SKU_1=10), an_order(SKU_1=3)
    fault = shop.fail("ReleaseStock", exhausted=True)
    async with saga(dev, shop, order) as handle:
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        shop.faults.remove(fault)
        await handle.execute_update(OrderSaga.retry, operator("catalog is back"))
        final = await result(handle)
        described = await handle.describe()

    assert final.state == SagaState.COMPENSATED
    assert described.status == WorkflowExecutionStatus.COMPLETED
    assert [state for _, state, _ in shop.outcomes] == ["needs_operator", "compensated"]
    assert shop.outcomes[-1][2].startswith("insufficient_funds: ")
    assert shop.order(order.order_id).status == "rejected"
    assert shop.held("SKU-1") == {}
    assert ("release_stock", "operator") in steps(final)


async def test_resolve_of_a_release_settles_the_order_by_hand(dev: Client) -> None:
    shop, order = Shop.with_stock(balance="5.00", SKU_1=10), an_order(SKU_1=3)
    shop.fail("ReleaseStock", exhausted=True)
    async with saga(dev, shop, order) as handle:
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        await handle.execute_update(OrderSaga.resolve, operator("released by hand", "bob"))
        final = await result(handle)
        described = await handle.describe()

    assert final.state == SagaState.RESOLVED
    assert described.status == WorkflowExecutionStatus.COMPLETED
    assert shop.outcomes[-1] == (order.order_id, "resolved", "released by hand")
    assert shop.order(order.order_id).status == "resolved"
    assert any(s.detail == "resolve by bob: released by hand" for s in final.steps)


async def test_compensating_a_commit_that_did_apply_confirms_the_order_without_a_refund(
    dev: Client,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10), an_order(SKU_1=3)
    shop.fail("CommitStock", exhausted=True, after_apply=True)  # committed, every reply lost
    async with saga(dev, shop, order) as handle:
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        await handle.execute_update(OrderSaga.compensate, operator("give up"))
        final = await result(handle)

    assert final.state == SagaState.COMPLETED
    assert shop.order(order.order_id).status == "confirmed"
    assert shop.commands("Deposit") == [] == shop.commands("ReleaseStock")
    assert shop.on_hand() == {"SKU-1": 7}
    assert shop.balances["acc-c1"] == D("87.50")


async def test_compensating_a_partly_committed_order_refunds_it_and_returns_its_stock(
    dev: Client,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10, SKU_2=10), an_order(SKU_1=3, SKU_2=4)
    fault = shop.fail("CommitStock", "SKU-2", exhausted=True)
    async with saga(dev, shop, order) as handle:
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        await handle.execute_update(OrderSaga.compensate, operator("catalog is down"))
        final = await result(handle)
    shop.faults.remove(fault)
    wid = workflow_id(order.order_id)
    late = {"sku": "SKU-2", "order_id": order.order_id, "quantity": 4}
    landed = await shop.dispatch("CommitStock", late, f"{wid}/commit_stock/1/SKU-2", None)

    assert final.state == SagaState.COMPENSATED
    assert shop.outcomes[-1] == (
        order.order_id,
        "compensated",
        "operator_compensated: catalog is down",
    )
    assert shop.order(order.order_id).status == "rejected"
    assert shop.balances["acc-c1"] == D("100.00")
    assert shop.on_hand() == {"SKU-1": 10, "SKU-2": 10}
    assert shop.held("SKU-1") == shop.held("SKU-2") == {}
    assert ids(shop, "ReturnStock") == [f"{wid}/release_stock/1/return/SKU-1"]
    # The release settled the commit still unanswered: it can no longer take the stock.
    assert (landed.status, landed.error_code) == ("rejected", "superseded")


# --- cancellation ------------------------------------------------------------------------


def blocking(name: str, reached: asyncio.Event) -> Callable[..., Any]:
    """A ``name`` activity that heartbeats until it is cancelled, having changed nothing."""

    @activity.defn(name=name)
    async def step(_: Any) -> None:
        reached.set()
        while True:
            activity.heartbeat()
            await asyncio.sleep(0.05)

    return step


async def cancelled(handle: Handle) -> bool:
    with pytest.raises(WorkflowFailureError) as ended:
        await result(handle)
    return isinstance(ended.value.cause, CancelledError)


async def test_cancelling_the_saga_during_its_charge_releases_the_stock_and_ends_cancelled(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order, reached = Shop.with_stock(SKU_1=10), an_order(SKU_1=3), asyncio.Event()
    async with saga(shop_env.client, shop, order, charge=blocking("charge", reached)) as handle:
        await asyncio.wait_for(reached.wait(), WAIT)
        await handle.cancel()
        assert await cancelled(handle)
        final = await handle.query(OrderSaga.status)

    assert final.state == SagaState.COMPENSATED
    assert shop.outcomes == [
        (order.order_id, "compensated", "saga_cancelled: the saga was cancelled")
    ]
    assert shop.held("SKU-1") == {}
    assert ("refund_charge", "skipped") in steps(final)  # settled: nothing was charged
    assert shop.commands("Deposit") == []


async def test_a_charge_that_lands_while_the_saga_is_cancelled_is_refunded(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(SKU_1=10), an_order(SKU_1=3)
    release = shop.gate("Withdraw")
    async with saga(shop_env.client, shop, order) as handle:
        await asyncio.wait_for(shop.gate_reached["Withdraw"].wait(), WAIT)
        await handle.cancel()
        await asyncio.sleep(0.3)
        # Like the real activities, this one does not heartbeat: it never hears of the
        # cancellation and succeeds, and the saga stops after it all the same.
        release.set()
        assert await cancelled(handle)
        final = await handle.query(OrderSaga.status)

    assert [state for _, state, _ in shop.outcomes] == ["compensated"]
    assert ("charge", "succeeded") in steps(final)
    assert shop.commands("CommitStock") == []
    assert shop.balances["acc-c1"] == D("100.00")
    assert ids(shop, "Deposit") == [f"{workflow_id(order.order_id)}/refund_charge/1"]
    assert shop.held("SKU-1") == {}
    assert shop.on_hand() == {"SKU-1": 10}


# --- the declaration, the UI and replay ----------------------------------------------------


def test_the_saga_starts_from_an_order_placed_payload_with_a_summary_line() -> None:
    placed = {
        "order_id": "o1",
        "customer_id": "c1",
        "payment_account_id": "acc-c1",
        "currency": "EUR",
        "total": "12.50",
        "lines": [
            {
                "sku": "A-1",
                "quantity": 1,
                "unit_price": "2.50",
                "discount": "0.00",
                "subtotal": "2.50",
            },
            {
                "sku": "B-2",
                "quantity": 2,
                "unit_price": "3.00",
                "discount": "0.00",
                "subtotal": "6.00",
            },
            {
                "sku": "C-3",
                "quantity": 1,
                "unit_price": "4.00",
                "discount": "0.00",
                "subtotal": "4.00",
            },
        ],
        "occurred_at": "2026-01-01T00:00:00+00:00",
    }
    started = ORDER_SAGA.start_input(placed, "corr-1")

    assert isinstance(started, OrderInput)
    assert started.lines == [
        OrderLine(sku="A-1", quantity=1),
        OrderLine(sku="B-2", quantity=2),
        OrderLine(sku="C-3", quantity=1),
    ]
    assert (started.correlation_id, ORDER_SAGA.business_id(started)) == ("corr-1", "o1")
    assert ORDER_SAGA.summary(started) == "Order o1: 3 lines, 12.50 EUR for customer c1"
    assert ORDER_SAGA.workflow_id("o1") == workflow_id("o1")
    assert ORDER_SAGA.conflict_command("o1", "taken") == (
        "RecordOrderOutcome",
        {"order_id": "o1", "state": "conflicted", "reason": "taken"},
    )


async def test_the_details_line_names_the_order_its_lines_total_customer_and_state(
    shop_env: WorkflowEnvironment,
) -> None:
    shop, order = Shop.with_stock(balance="5.00", SKU_1=10), an_order(SKU_1=3)
    shop.fail("ReleaseStock", exhausted=True)
    async with saga(shop_env.client, shop, order) as handle:
        waiting = await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)

    assert metadata.current_details == (
        f"Order `{order.order_id}`: **1 line, 12.50 EUR** for `c1`: **needs_operator**, "
        f"waiting on **release_stock**: {waiting.last_error}"
    )


def test_every_order_scenario_of_the_recorder_has_a_recorded_history() -> None:
    assert sorted(p.stem for p in HISTORIES.glob("*.json")) == sorted(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_a_recorded_order_saga_replays_without_nondeterminism(name: str) -> None:
    path = HISTORIES / f"{name}.json"
    replayer = Replayer(workflows=[OrderSaga], data_converter=pydantic_data_converter)
    outcome = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert outcome.replay_failure is None
    last = json.loads(path.read_text())["events"][-1]["eventType"]
    assert last == SCENARIOS[name].last_event
