"""The transfer saga in the time-skipping test server, its activities on an in-memory bus."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeDispatcher
from tests.workflows.support import (
    WAIT,
    result,
    saga_worker,
    skip_to_result,
    start,
    steps,
    transfer,
    transfer_status,
    unique,
    wait_for_state,
)
from workflows.saga.types import SAGA_STATE, SagaState
from workflows.transfers.shared import MoneyStep, workflow_id

D = Decimal


async def test_a_transfer_moves_the_money_and_records_it_completed(
    env: WorkflowEnvironment,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    t, queue = transfer("30.00"), unique("tq")
    async with saga_worker(env.client, queue, bus):
        handle = await start(env.client, t, queue)
        final = await result(handle)
        queried = await transfer_status(handle)
        described = await handle.describe()

    assert bus.balances == {"A": D("70.00"), "B": D("35.00")}
    assert bus.outcomes == [(t.transfer_id, "completed", "")]
    assert queried.state == final.state == SagaState.COMPLETED
    assert queried.transfer_id == t.transfer_id
    assert queried.waiting_step is None
    assert steps(queried) == [
        ("withdraw", "started"),
        ("withdraw", "succeeded"),
        ("deposit", "started"),
        ("deposit", "succeeded"),
        ("outcome:completed", "succeeded"),
    ]
    wid = workflow_id(t.transfer_id)
    assert [c[2] for c in bus.calls] == [
        f"{wid}/withdraw/1",
        f"{wid}/deposit/1",
        f"{wid}/outcome/completed/1",
    ]
    assert described.status == WorkflowExecutionStatus.COMPLETED
    assert described.typed_search_attributes.get(SAGA_STATE) == "completed"


async def test_a_refused_withdrawal_rejects_the_transfer_and_moves_nothing(
    env: WorkflowEnvironment,
) -> None:
    bus = FakeDispatcher.with_accounts(A="10.00", B="5.00")
    t, queue = transfer("30.00"), unique("tq")
    async with saga_worker(env.client, queue, bus):
        final = await result(await start(env.client, t, queue))

    assert final.state == SagaState.REJECTED
    assert bus.balances == {"A": D("10.00"), "B": D("5.00")}
    [(transfer_id, state, reason)] = bus.outcomes
    assert (transfer_id, state) == (t.transfer_id, "rejected")
    assert reason.startswith("insufficient_funds")
    assert bus.commands("Deposit") == []
    assert steps(final, "refund") == []
    assert ("withdraw", "refused") in steps(final)


async def test_a_refused_deposit_is_compensated_by_a_refund_to_the_source(
    env: WorkflowEnvironment,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    bus.closed.add("B")
    t, queue = transfer("30.00"), unique("tq")
    async with saga_worker(env.client, queue, bus):
        final = await result(await start(env.client, t, queue))

    assert final.state == SagaState.COMPENSATED
    assert bus.balances == {"A": D("100.00"), "B": D("5.00")}
    [(_, state, reason)] = bus.outcomes
    assert state == "compensated"
    assert reason.startswith("account_closed")
    assert ("deposit", "refused") in steps(final)
    assert steps(final, "refund") == [("refund", "started"), ("refund", "succeeded")]
    wid = workflow_id(t.transfer_id)
    assert [c[1:] for c in bus.commands("Deposit")] == [
        ("B", f"{wid}/deposit/1"),
        ("A", f"{wid}/refund/1"),
    ]


async def test_a_deposit_that_keeps_failing_is_refunded_after_the_forward_retry_budget(
    env: WorkflowEnvironment,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    fault = bus.fail("Deposit", account_id="B")
    t, queue = transfer("30.00"), unique("tq")
    began = await env.get_current_time()
    async with saga_worker(env.client, queue, bus):
        final = await skip_to_result(env, await start(env.client, t, queue))

    assert fault.raised == 5  # FORWARD.maximum_attempts
    # The backoff (1 + 2 + 4 + 8 s) really passed, in skipped time.
    assert await env.get_current_time() - began >= timedelta(seconds=15)
    assert final.state == SagaState.COMPENSATED
    assert bus.balances == {"A": D("100.00"), "B": D("5.00")}
    [(_, state, reason)] = bus.outcomes
    assert state == "compensated"
    assert "transient failure" in reason
    assert ("deposit", "failed") in steps(final)
    assert ("refund", "succeeded") in steps(final)


async def test_a_deposit_that_fails_a_few_times_completes_and_moves_the_money_once(
    env: WorkflowEnvironment,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    bus.fail("Deposit", account_id="B", times=2)
    t, queue = transfer("30.00"), unique("tq")
    async with saga_worker(env.client, queue, bus):
        final = await skip_to_result(env, await start(env.client, t, queue))

    assert final.state == SagaState.COMPLETED
    assert bus.balances == {"A": D("70.00"), "B": D("35.00")}
    assert len(bus.commands("Deposit")) == 3
    assert steps(final, "refund") == []


async def test_a_deposit_applied_whose_replies_are_all_lost_completes_without_a_refund(
    env: WorkflowEnvironment,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    bus.fail("Deposit", account_id="B", after_apply=True)
    t, queue = transfer("30.00"), unique("tq")
    async with saga_worker(env.client, queue, bus):
        final = await skip_to_result(env, await start(env.client, t, queue))

    # Every retry found the deposit in the inbox; the refund saw it and undid nothing.
    assert final.state == SagaState.COMPLETED
    assert bus.balances == {"A": D("70.00"), "B": D("35.00")}
    assert [c[1] for c in bus.commands("Deposit")] == ["B"] * 5
    assert ("refund", "succeeded") in steps(final)
    assert bus.outcomes == [(t.transfer_id, "completed", "")]


async def test_a_withdrawal_that_keeps_failing_waits_for_an_operator_having_moved_nothing(
    env: WorkflowEnvironment,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    fault = bus.fail("Withdraw")
    t, queue = transfer("30.00"), unique("tq")
    async with saga_worker(env.client, queue, bus):
        handle = await start(env.client, t, queue)
        waiting = await wait_for_state(
            handle, SagaState.NEEDS_OPERATOR, lambda: env.sleep(timedelta(seconds=5))
        )
        described = await handle.describe()
        await handle.terminate("test over")

    assert fault.raised == 5
    assert waiting.waiting_step == "withdraw"
    assert waiting.last_error is not None
    assert "transient failure" in waiting.last_error
    assert described.status == WorkflowExecutionStatus.RUNNING
    assert described.typed_search_attributes.get(SAGA_STATE) == "needs_operator"
    assert bus.balances == {"A": D("100.00"), "B": D("5.00")}
    [(_, state, reason)] = bus.outcomes
    assert state == "needs_operator"
    assert reason.startswith("withdraw failed: ")


async def test_a_refused_refund_leaves_the_saga_running_and_waiting_for_an_operator(
    env: WorkflowEnvironment,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    bus.closed.add("B")
    bus.close_after_withdrawal.add("A")
    t, queue = transfer("30.00"), unique("tq")
    async with saga_worker(env.client, queue, bus):
        handle = await start(env.client, t, queue)
        waiting = await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        described = await handle.describe()
        await handle.terminate("test over")

    assert waiting.waiting_step == "refund"
    assert waiting.last_error is not None
    assert waiting.last_error.startswith("account_closed")
    assert ("refund", "refused") in steps(waiting)
    assert described.status == WorkflowExecutionStatus.RUNNING
    assert described.typed_search_attributes.get(SAGA_STATE) == "needs_operator"
    [(transfer_id, state, reason)] = bus.outcomes
    assert (transfer_id, state) == (t.transfer_id, "needs_operator")
    assert reason == f"refund failed: {waiting.last_error}"
    assert bus.balances == {"A": D("70.00"), "B": D("5.00")}


def blocking_step(name: str, reached: asyncio.Event, cancelled: asyncio.Event) -> Any:
    """A ``name`` activity that heartbeats until it is cancelled, having changed nothing."""

    @activity.defn(name=name)
    async def step(step: MoneyStep) -> None:
        reached.set()
        try:
            while True:
                activity.heartbeat()
                await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    return step


async def cancel_during_deposit(
    env: WorkflowEnvironment, bus: FakeDispatcher
) -> tuple[BaseException | None, str]:
    """Start a saga, cancel it while its deposit runs; return how it ended and its id."""
    reached, cancelled = asyncio.Event(), asyncio.Event()
    t, queue = transfer("30.00"), unique("tq")
    double = blocking_step("deposit", reached, cancelled)
    async with saga_worker(env.client, queue, bus, deposit=double):
        handle = await start(env.client, t, queue)
        await asyncio.wait_for(reached.wait(), WAIT)
        await handle.cancel()
        try:
            await result(handle)
        except WorkflowFailureError as failure:
            ended: BaseException | None = failure
        else:
            ended = None
        assert cancelled.is_set()
    return ended, t.transfer_id


async def test_cancelling_a_saga_during_its_deposit_still_refunds_the_source(
    env: WorkflowEnvironment,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    _, transfer_id = await cancel_during_deposit(env, bus)

    assert bus.balances == {"A": D("100.00"), "B": D("5.00")}
    assert [c[1] for c in bus.commands("Deposit")] == ["A"]
    [(recorded_id, state, _)] = bus.outcomes
    assert (recorded_id, state) == (transfer_id, "compensated")


async def test_a_saga_cancelled_during_its_deposit_ends_cancelled_after_compensating(
    env: WorkflowEnvironment,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    ended, _ = await cancel_during_deposit(env, bus)

    assert isinstance(ended, WorkflowFailureError)
    assert isinstance(ended.cause, CancelledError)
    assert [state for _, state, _ in bus.outcomes] == ["compensated"]


async def test_a_saga_cancelled_during_its_withdrawal_compensates_and_ends_cancelled(
    env: WorkflowEnvironment,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    reached, cancelled = asyncio.Event(), asyncio.Event()
    t, queue = transfer("30.00"), unique("tq")
    double = blocking_step("withdraw", reached, cancelled)
    async with saga_worker(env.client, queue, bus, withdraw=double):
        handle = await start(env.client, t, queue)
        await asyncio.wait_for(reached.wait(), WAIT)
        await handle.cancel()
        try:
            settled = await wait_for_state(
                handle, SagaState.COMPENSATED, timeout=5, unless=SagaState.NEEDS_OPERATOR
            )
            assert settled.state == SagaState.COMPENSATED, settled
            with pytest.raises(WorkflowFailureError) as ended:
                await result(handle)
        finally:
            if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                await handle.terminate("test over")

    assert isinstance(ended.value.cause, CancelledError)
    assert [state for _, state, _ in bus.outcomes] == ["compensated"]
    assert ("refund", "skipped") in steps(settled)


async def test_cancelling_a_saga_that_waits_for_an_operator_compensates_and_ends_cancelled(
    env: WorkflowEnvironment,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    bus.fail("Withdraw", exhausted=True)
    t, queue = transfer("30.00"), unique("tq")
    async with saga_worker(env.client, queue, bus):
        handle = await start(env.client, t, queue)
        await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as ended:
            await result(handle)

    assert isinstance(ended.value.cause, CancelledError)
    assert [(s, r) for _, s, r in bus.outcomes][-1] == ("compensated", "the saga was cancelled")
    assert bus.balances == {"A": D("100.00"), "B": D("5.00")}


async def test_a_saga_cancelled_during_its_refund_lets_the_refund_finish_and_ends_cancelled(
    env: WorkflowEnvironment,
) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    bus.closed.add("B")
    release = bus.gate("Deposit", "A")
    t, queue = transfer("30.00"), unique("tq")
    async with saga_worker(env.client, queue, bus):
        handle = await start(env.client, t, queue)
        await asyncio.wait_for(bus.gate_reached["Deposit", "A"].wait(), WAIT)
        await handle.cancel()
        await asyncio.sleep(0.3)  # the saga takes the cancellation while the refund runs
        release.set()
        with pytest.raises(WorkflowFailureError) as ended:
            await result(handle)
        history = await handle.fetch_history()

    assert isinstance(ended.value.cause, CancelledError)
    assert bus.balances == {"A": D("100.00"), "B": D("5.00")}
    assert [c[2] for c in bus.commands("Deposit") if c[1] == "A"] == [
        f"{workflow_id(t.transfer_id)}/refund/1"
    ]
    [(_, state, reason)] = bus.outcomes
    assert (state, reason.split(":")[0]) == ("compensated", "account_closed")
    kinds = {event.event_type for event in history.events}
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED not in kinds


async def test_starting_the_same_transfer_twice_runs_one_saga(env: WorkflowEnvironment) -> None:
    bus = FakeDispatcher.with_accounts(A="100.00", B="5.00")
    t, queue = transfer("30.00"), unique("tq")
    first = await start(env.client, t, queue)
    run_id = (await first.describe()).run_id
    again = await start(env.client, t, queue)  # while the first run is still pending
    assert (await again.describe()).run_id == run_id
    async with saga_worker(env.client, queue, bus):
        final = await result(first)
        await start(env.client, t, queue)  # and once it is over
        assert (await first.describe()).run_id == run_id

    assert final.state == SagaState.COMPLETED
    assert bus.balances == {"A": D("70.00"), "B": D("35.00")}
    assert len(bus.commands("Withdraw")) == 1
    assert bus.outcomes == [(t.transfer_id, "completed", "")]
