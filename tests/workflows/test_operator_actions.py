"""Operator updates on a waiting saga, on the real dev server (the test server lacks updates)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.service import RPCError

from tests.workflows.fakes import FakeDispatcher
from tests.workflows.support import (
    WAIT,
    result,
    start,
    status,
    steps,
    transfer,
    unique,
    wait_for_state,
)
from workflows.saga.types import SAGA_STATE, OperatorAction, SagaState, SagaStatus
from workflows.transfers.shared import TransferInput, workflow_id
from workflows.transfers.worker import build_worker
from workflows.transfers.workflows import TransferSaga

D = Decimal
UPDATES = (TransferSaga.retry, TransferSaga.compensate, TransferSaga.resolve)


@asynccontextmanager
async def saga(
    client: Client, bus: FakeDispatcher, t: TransferInput | None = None
) -> AsyncIterator[tuple[WorkflowHandle[Any, SagaStatus], TransferInput]]:
    """A worker built like production's, and one saga started on its task queue."""
    t, queue = t or transfer("30.00"), unique("tq")
    async with build_worker(client, queue, bus, graceful_shutdown=timedelta(seconds=2)):
        handle = await start(client, t, queue)
        try:
            yield handle, t
        finally:
            if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                await handle.terminate("test over")


def refund_refused() -> FakeDispatcher:
    """The destination is closed, and so is the source once the money left it."""
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    bus.closed.add("B")
    bus.close_after_withdrawal.add("A")
    return bus


def operator(reason: str, name: str = "alice") -> OperatorAction:
    return OperatorAction(reason=reason, operator=name)


def cause_of(error: WorkflowUpdateFailedError) -> str:
    assert isinstance(error.cause, ApplicationError)
    return error.cause.message


async def test_retry_after_the_source_reopened_refunds_it_and_ends_compensated(
    dev_client: Client,
) -> None:
    bus = refund_refused()
    async with saga(dev_client, bus) as (handle, t):
        waiting = await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        assert waiting.waiting_step == "refund"
        bus.closed.discard("A")
        accepted = await handle.execute_update(
            TransferSaga.retry, operator("source reopened by support")
        )
        final = await result(handle)
        described = await handle.describe()

    assert accepted.state == SagaState.NEEDS_OPERATOR  # as the update found it
    assert final.state == SagaState.COMPENSATED
    assert final.waiting_step is None
    assert bus.balances == {"A": D("100.00"), "B": D("5.00")}
    assert [state for _, state, _ in bus.outcomes] == ["needs_operator", "compensated"]
    assert bus.outcomes[-1][2].startswith("account_closed")  # why it was compensated
    [decision] = [s for s in final.steps if s.status == "operator"]
    assert (decision.step, decision.detail) == (
        "refund",
        "retry by alice: source reopened by support",
    )
    wid = workflow_id(t.transfer_id)
    # The refused refund is in the inbox: the retry uses a fresh message id.
    assert [c[2] for c in bus.commands("Deposit") if c[1] == "A"] == [
        f"{wid}/refund/1",
        f"{wid}/refund/2",
    ]
    assert described.typed_search_attributes.get(SAGA_STATE) == "compensated"


async def test_resolve_settles_the_saga_by_hand_and_moves_nothing_more(
    dev_client: Client,
) -> None:
    bus = refund_refused()
    async with saga(dev_client, bus) as (handle, t):
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        await handle.execute_update(
            TransferSaga.resolve, operator("refunded by bank transfer", "bob")
        )
        final = await result(handle)

    assert final.state == SagaState.RESOLVED
    assert bus.outcomes[-1] == (t.transfer_id, "resolved", "refunded by bank transfer")
    assert [state for _, state, _ in bus.outcomes] == ["needs_operator", "resolved"]
    assert bus.balances == {"A": D("70.00"), "B": D("5.00")}
    assert ("refund", "operator") in steps(final)
    assert any(s.detail == "resolve by bob: refunded by bank transfer" for s in final.steps)


async def test_compensate_is_refused_while_the_saga_waits_on_its_refund(
    dev_client: Client,
) -> None:
    bus = refund_refused()
    async with saga(dev_client, bus) as (handle, _):
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(TransferSaga.compensate, operator("undo it"))
        after = await status(handle)

    assert "already compensating" in cause_of(refused.value)
    assert after.state == SagaState.NEEDS_OPERATOR
    assert after.waiting_step == "refund"
    assert ("refund", "operator") not in steps(after)


async def test_every_update_is_refused_while_a_step_is_running(dev_client: Client) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    release = bus.gate("Deposit", "B")
    async with saga(dev_client, bus) as (handle, _):
        await asyncio.wait_for(bus.gate_reached["Deposit", "B"].wait(), WAIT)
        for update in UPDATES:
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(update, operator("too early"))
            assert "not waiting for an operator" in cause_of(refused.value)
        release.set()
        final = await result(handle)

    assert final.state == SagaState.COMPLETED
    assert ("deposit", "operator") not in steps(final)
    assert bus.balances == {"A": D("70.00"), "B": D("35.00")}


async def test_a_second_decision_is_refused_while_the_first_one_runs(dev_client: Client) -> None:
    bus = refund_refused()
    async with saga(dev_client, bus) as (handle, _):
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        bus.closed.discard("A")
        release = bus.gate("Deposit", "A")
        await handle.execute_update(TransferSaga.retry, operator("reopened"))
        await asyncio.wait_for(bus.gate_reached["Deposit", "A"].wait(), WAIT)
        for update in (TransferSaga.retry, TransferSaga.resolve):
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(update, operator("me too", "carol"))
            assert "not waiting for an operator" in cause_of(refused.value)
        release.set()
        final = await result(handle)

    assert final.state == SagaState.COMPENSATED
    assert [s.detail for s in final.steps if s.status == "operator"] == ["retry by alice: reopened"]


async def test_an_update_to_a_finished_saga_is_refused(dev_client: Client) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    async with saga(dev_client, bus) as (handle, _):
        await result(handle)
        with pytest.raises(RPCError, match="already completed"):
            await handle.execute_update(TransferSaga.resolve, operator("late"))

    assert [state for _, state, _ in bus.outcomes] == ["completed"]


async def test_a_withdrawal_out_of_retries_is_compensated_by_an_operator_with_nothing_to_refund(
    dev_client: Client,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    bus.fail("Withdraw", exhausted=True)
    async with saga(dev_client, bus) as (handle, _):
        waiting = await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        await handle.execute_update(TransferSaga.compensate, operator("source bank is down", "dan"))
        final = await result(handle)

    assert waiting.waiting_step == "withdraw"
    assert waiting.last_error is not None
    assert "transient failure" in waiting.last_error
    assert final.state == SagaState.COMPENSATED
    assert ("refund", "skipped") in steps(final)
    [skipped] = [s for s in final.steps if s.step == "refund" and s.status == "skipped"]
    assert skipped.detail == "no withdrawal was applied"
    assert any(s.detail == "compensate by dan: source bank is down" for s in final.steps)
    assert [state for _, state, _ in bus.outcomes] == ["needs_operator", "compensated"]
    assert bus.outcomes[-1][2] == "compensated by an operator: source bank is down"
    assert bus.commands("Deposit") == []
    assert bus.balances == {"A": D("100.00"), "B": D("5.00")}


async def test_a_withdrawal_retried_by_an_operator_completes_the_transfer(
    dev_client: Client,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    bus.fail("Withdraw", exhausted=True)
    async with saga(dev_client, bus) as (handle, t):
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        bus.heal()
        await handle.execute_update(TransferSaga.retry, operator("bank is back"))
        final = await result(handle)

    assert final.state == SagaState.COMPLETED
    assert bus.balances == {"A": D("70.00"), "B": D("35.00")}
    # A step that failed (not refused) is retried with the same message id.
    wid = workflow_id(t.transfer_id)
    assert [c[2] for c in bus.commands("Withdraw")] == [f"{wid}/withdraw/1"] * 2
    assert [state for _, state, _ in bus.outcomes] == ["needs_operator", "completed"]


async def test_cancelling_a_saga_waiting_on_its_refund_compensates_and_ends_cancelled(
    dev_client: Client,
) -> None:
    bus = refund_refused()
    async with saga(dev_client, bus) as (handle, t):
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        bus.closed.discard("A")
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as ended:
            await result(handle)

    assert isinstance(ended.value.cause, CancelledError)
    assert bus.outcomes[-1] == (t.transfer_id, "compensated", "the saga was cancelled")
    assert bus.balances == {"A": D("100.00"), "B": D("5.00")}


async def test_a_cancelled_saga_that_is_compensating_does_not_take_operator_decisions(
    dev_client: Client,
) -> None:
    bus = refund_refused()
    async with saga(dev_client, bus) as (handle, _):
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        bus.closed.discard("A")
        release = bus.gate("Deposit", "A")
        await handle.cancel()
        await asyncio.wait_for(bus.gate_reached["Deposit", "A"].wait(), WAIT)
        try:
            during = await status(handle)
            with pytest.raises(WorkflowUpdateFailedError):
                await handle.execute_update(TransferSaga.resolve, operator("settled by hand"))
        finally:
            release.set()
        with pytest.raises(WorkflowFailureError):
            await result(handle)

    assert during.state == SagaState.RUNNING
    assert during.waiting_step is None
    assert [state for _, state, _ in bus.outcomes] == ["needs_operator", "compensated"]
