"""The base's operator updates on the order saga, on the real dev server (it has updates)."""

from __future__ import annotations

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from tests.workflows.order_saga import OrderSaga
from tests.workflows.support import result, status, steps, unique, wait_for_state
from tests.workflows.test_saga_base import order_worker, shop, start
from workflows.saga.types import OperatorAction, SagaState

DECISION = OperatorAction(reason="the warehouse is back", operator="erin")


async def test_a_retried_release_compensates_the_order_with_a_fresh_key(
    dev_client: Client,
) -> None:
    bus, queue = shop(refusing={"Charge", "Release"}), unique("tq")
    async with order_worker(dev_client, queue, bus):
        handle = await start(dev_client, queue)
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        bus.refusing.discard("Release")
        await handle.execute_update(OrderSaga.retry, DECISION)
        final = await result(handle)

    assert final.state == SagaState.COMPENSATED
    assert [key for command, key in bus.calls if command == "Release"] == [
        f"{handle.id}/release_stock/1",
        f"{handle.id}/release_stock/2",
    ]
    assert ("release_stock", "operator") in steps(final)
    assert bus.outcomes[-1] == (final.order_id, "compensated", "refused: Charge")


async def test_compensate_is_refused_while_the_order_waits_on_a_compensation(
    dev_client: Client,
) -> None:
    bus, queue = shop(refusing={"Charge", "Release"}), unique("tq")
    async with order_worker(dev_client, queue, bus):
        handle = await start(dev_client, queue)
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(OrderSaga.compensate, DECISION)
        await handle.execute_update(OrderSaga.resolve, DECISION)
        final = await result(handle)
        queried = await status(handle)

    assert isinstance(refused.value.cause, ApplicationError)
    assert "already compensating" in refused.value.cause.message
    assert final.state == SagaState.RESOLVED
    assert bus.outcomes[-1] == (final.order_id, "resolved", "the warehouse is back")
    assert queried.state == SagaState.RESOLVED
    assert ("release_stock", "operator") in steps(queried)
