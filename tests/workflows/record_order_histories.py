"""Record representative order saga histories for its replay test.

    python -m tests.workflows.record_order_histories [NAME...]

Like ``record_histories`` (the transfer saga's), by its ``record_all``: starts its own
dev server, runs each scenario below (or those named) against the in-memory shop, and
writes its history to ``tests/workflows/histories/orders/<name>.json``. Commit the files;
a change to the saga records new scenarios and leaves the old files as they are.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowHistory

from tests.workflows.order_fakes import Hold, Shop
from tests.workflows.record_histories import record_all
from tests.workflows.support import WAIT, result, wait_for_state
from worker.contexts.orders.saga import ORDER_SAGA
from worker.sagas.registration import build_worker
from worker.sagas.starter import start_saga
from workflows.orders.shared import ORDER_ID, OrderInput, OrderLine, workflow_id
from workflows.orders.workflows import OrderSaga
from workflows.saga.types import SAGA_STATE, OperatorAction, SagaState

HISTORIES = Path(__file__).parent / "histories" / "orders"
Handle = WorkflowHandle[Any, Any]
COMPLETED = "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"
CANCELED = "EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED"


def order_of(name: str) -> OrderInput:
    """The recorded order ``name``: 3 of SKU-1 and 4 of SKU-2, 12.50 EUR."""
    return OrderInput(
        order_id=f"replay-{name}",
        customer_id="c1",
        payment_account_id="acc-c1",
        currency="EUR",
        total="12.50",
        lines=[OrderLine(sku="SKU-1", quantity=3), OrderLine(sku="SKU-2", quantity=4)],
        correlation_id=f"corr-{name}",
    )


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(workflow_id(f"replay-{path.stem}"), path.read_text())


def shop(order_id: str) -> Shop:
    return Shop.with_stock(SKU_1=10, SKU_2=10)


def out_of_stock(order_id: str) -> Shop:
    return Shop.with_stock(SKU_1=10, SKU_2=2)


def poor(order_id: str) -> Shop:
    return Shop.with_stock(balance="5.00", SKU_1=10, SKU_2=10)


def cancel_requested(order_id: str) -> Shop:
    fake = shop(order_id)
    fake.order(order_id).cancel_reason = "changed my mind"
    return fake


def lapsing(order_id: str, taken: int = 0) -> Shop:
    fake = shop(order_id)

    def lapse() -> None:
        fake.lapse(order_id)
        if taken:
            fake.products["SKU-2"].holds["o-other"] = Hold(taken)

    fake.after["Withdraw"] = lapse
    return fake


def release_down(order_id: str) -> Shop:
    fake = poor(order_id)
    fake.fail("ReleaseStock", exhausted=True)
    return fake


def partly_committed(order_id: str) -> Shop:
    """The first commit attempt takes SKU-1 and dies; then SKU-2 goes to another order."""
    fake = shop(order_id)
    fake.fail("CommitStock", "SKU-2", times=1)

    def lapse() -> None:
        fake.lapse(order_id)
        fake.products["SKU-2"].holds["o-other"] = Hold(8)

    fake.after["CommitStock"] = lapse
    return fake


def commit_down(order_id: str) -> Shop:
    """SKU-1 commits, SKU-2's commit keeps failing."""
    fake = shop(order_id)
    fake.fail("CommitStock", "SKU-2", exhausted=True)
    return fake


def charge_held(order_id: str) -> Shop:
    fake = shop(order_id)
    fake.gate("Withdraw")
    return fake


async def to_the_end(handle: Handle, fake: Shop) -> None:
    await result(handle)


async def retry_once_healed(handle: Handle, fake: Shop) -> None:
    await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
    fake.faults.clear()
    action = OperatorAction(reason="catalog is back", operator="alice")
    await handle.execute_update(OrderSaga.retry, action)
    await result(handle)


async def resolve(handle: Handle, fake: Shop) -> None:
    await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
    action = OperatorAction(reason="released by hand", operator="bob")
    await handle.execute_update(OrderSaga.resolve, action)
    await result(handle)


async def compensate(handle: Handle, fake: Shop) -> None:
    await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
    action = OperatorAction(reason="catalog is down", operator="carol")
    await handle.execute_update(OrderSaga.compensate, action)
    await result(handle)


async def cancel_during_the_charge(handle: Handle, fake: Shop) -> None:
    await fake.gate_reached["Withdraw"].wait()
    await handle.cancel()
    await asyncio.sleep(0.5)  # the saga takes the cancellation while the charge runs
    fake.gates["Withdraw"].set()
    try:
        await result(handle)
    except WorkflowFailureError:  # the saga ends cancelled
        return


@dataclass(frozen=True)
class Scenario:
    shop: Callable[[str], Shop]
    drive: Callable[[Handle, Shop], Awaitable[None]]
    #: The type of the history's last event: how the workflow ended.
    last_event: str = COMPLETED


SCENARIOS: dict[str, Scenario] = {
    "order_confirmed": Scenario(shop, to_the_end),
    "order_rejected_out_of_stock": Scenario(out_of_stock, to_the_end),
    "order_charge_refused": Scenario(poor, to_the_end),
    "order_cancelled_before_the_charge": Scenario(cancel_requested, to_the_end),
    "order_reservation_renewed": Scenario(lapsing, to_the_end),
    "order_reservation_expired": Scenario(lambda o: lapsing(o, taken=8), to_the_end),
    "order_release_retried": Scenario(release_down, retry_once_healed),
    "order_release_resolved": Scenario(release_down, resolve),
    "order_cancelled_during_the_charge": Scenario(charge_held, cancel_during_the_charge, CANCELED),
    "order_partly_committed_returned": Scenario(partly_committed, to_the_end),
    "order_partly_committed_compensated": Scenario(commit_down, compensate),
}


async def record(client: Client, name: str) -> WorkflowHistory:
    scenario, order = SCENARIOS[name], order_of(name)
    fake = scenario.shop(order.order_id)
    queue = f"record-{name}"
    worker = build_worker(client, queue, [ORDER_SAGA], fake, timedelta(seconds=2))
    async with worker:
        await start_saga(client, order, queue, saga=ORDER_SAGA)
        handle = client.get_workflow_handle(workflow_id(order.order_id))
        await asyncio.wait_for(scenario.drive(handle, fake), WAIT)
        return await handle.fetch_history()


async def main(names: list[str]) -> None:
    await record_all(names or SCENARIOS, record, HISTORIES, (SAGA_STATE, ORDER_ID))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
