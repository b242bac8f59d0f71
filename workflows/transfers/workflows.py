"""The transfer saga. Deterministic: no I/O here, only activities, timers and state."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Literal, cast

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from workflows.saga.types import SAGA_STATE, OperatorAction, SagaState, SagaStatus, StepRecord
    from workflows.transfers.activities import REFUSED
    from workflows.transfers.shared import (
        WORKFLOW_NAME,
        MoneyStep,
        OutcomeStep,
        RefundResult,
        RefundStep,
        TransferInput,
    )

Action = Literal["retry", "compensate", "resolve"]

STEP_TIMEOUT = timedelta(seconds=30)
#: Reasons are recorded on the Transfer (at most 2,000 characters there).
MAX_REASON = 1000
FORWARD = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=5,
    non_retryable_error_types=[REFUSED],
)
#: Compensations are retried far longer than forward steps before an operator is asked.
COMPENSATION = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=30,
    non_retryable_error_types=[REFUSED],
)
#: Recording the outcome can only wait for the database; it never gives up.
BOOKKEEPING = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


class StepFailed(Exception):
    def __init__(self, reason: str, refused: bool) -> None:
        super().__init__(reason)
        self.reason, self.refused = reason, refused


class OperatorStopped(Exception):
    """The operator chose to compensate or to resolve by hand."""

    def __init__(self, action: Action, reason: str) -> None:
        super().__init__(reason)
        self.action, self.reason = action, reason


@workflow.defn(name=WORKFLOW_NAME)
class TransferSaga:
    """Withdraw from the source, deposit to the destination, record the outcome.

    A refused withdrawal ends *rejected*. A deposit that is refused or keeps
    failing is compensated by a refund (*compensated*). A refund that cannot
    succeed, or a withdrawal that keeps failing, waits in *needs_operator* for
    an operator's ``retry``, ``compensate`` or ``resolve`` update.
    """

    def __init__(self) -> None:
        self._status = SagaStatus(transfer_id="", state=SagaState.RUNNING)
        self._pending: tuple[Action, OperatorAction] | None = None
        self._attempts: dict[str, int] = {}
        self._keys_used: dict[str, list[str]] = {}

    @workflow.run
    async def run(self, transfer: TransferInput) -> SagaStatus:
        self._transfer = transfer
        self._status.transfer_id = transfer.transfer_id
        self._describe()
        try:
            await self._saga()
        except asyncio.CancelledError:
            # Compensation runs even when the saga is cancelled: Temporal delivers a
            # cancellation once, so the activities awaited from here run to the end.
            # Nothing waits for an operator any more, so no decision can be taken.
            self._pending, self._status.waiting_step = None, None
            self._set_search_state(SagaState.RUNNING)
            await self._compensate("the saga was cancelled")
            raise
        return self._status

    async def _saga(self) -> None:
        try:
            await self._with_operator("withdraw", self._withdraw)
        except StepFailed as refusal:
            await self._finish(SagaState.REJECTED, refusal.reason)
            return
        except OperatorStopped as stop:
            await self._stopped_by_operator(stop)
            return
        try:
            await self._deposit()
        except StepFailed as failure:
            await self._compensate(failure.reason)
            return
        await self._finish(SagaState.COMPLETED, "")

    # --- steps -------------------------------------------------------------------------

    def _key(self, step: str) -> str:
        attempt = self._attempts.setdefault(step, 1)
        key = f"{workflow.info().workflow_id}/{step}/{attempt}"
        used = self._keys_used.setdefault(step, [])
        if key not in used:
            used.append(key)
        return key

    def _money(self, step: str, account_id: str) -> MoneyStep:
        t = self._transfer
        return MoneyStep(
            account_id=account_id,
            amount=t.amount,
            currency=t.currency,
            message_id=self._key(step),
            correlation_id=t.correlation_id,
        )

    async def _withdraw(self) -> None:
        step = self._money("withdraw", self._transfer.from_account_id)
        await self._activity("withdraw", step, FORWARD)

    async def _deposit(self) -> None:
        step = self._money("deposit", self._transfer.to_account_id)
        await self._activity("deposit", step, FORWARD)

    async def _refund(self) -> RefundResult:
        money = self._money("refund", self._transfer.from_account_id)
        step = RefundStep(
            **money.model_dump(),
            withdrawal_message_ids=self._keys_used.get("withdraw", []),
            deposit_message_ids=self._keys_used.get("deposit", []),
        )
        result = await self._activity("refund", step, COMPENSATION, result_type=str)
        return cast(RefundResult, result)

    async def _activity(
        self,
        name: str,
        arg: object,
        policy: RetryPolicy,
        result_type: type | None = None,
    ) -> object:
        attempt = self._attempts.get(name, 1)
        self._record(name, "started", attempt)
        try:
            result = await workflow.execute_activity(
                name,
                arg,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=policy,
                # A cancelled step is waited for, so compensation sees what it did.
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                result_type=result_type,
            )
        except ActivityError as error:
            cause = error.cause
            if isinstance(cause, CancelledError):
                self._record(name, "cancelled", attempt)
                raise asyncio.CancelledError() from None
            refused = isinstance(cause, ApplicationError) and cause.type == REFUSED
            reason = getattr(cause, "message", None) or str(cause or error)
            self._record(name, "refused" if refused else "failed", attempt, reason)
            if refused:
                self._attempts[name] = attempt + 1  # the inbox would repeat the refusal
            raise StepFailed(reason, refused) from None
        self._record(name, "succeeded", attempt)
        return result

    # --- compensation and operators ----------------------------------------------------

    async def _with_operator(self, step: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run a forward step; if it keeps failing (not a refusal), wait for an operator."""
        while True:
            try:
                await run()
                return
            except StepFailed as failure:
                if failure.refused:
                    raise
                action, decision = await self._wait_for_operator(step, failure.reason)
                if action != "retry":
                    raise OperatorStopped(action, decision.reason) from None

    async def _compensate(self, reason: str) -> None:
        """Refund the withdrawal (if one was applied) until it works or an operator decides."""
        while True:
            try:
                result = await self._refund()
            except StepFailed as failure:
                action, decision = await self._wait_for_operator("refund", failure.reason)
                if action == "resolve":
                    await self._finish(SagaState.RESOLVED, decision.reason)
                    return
                continue
            if result == "deposit_applied":
                # The deposit did happen (only its report was lost): the transfer is done.
                await self._finish(SagaState.COMPLETED, "")
                return
            if result == "nothing_withdrawn":
                self._record("refund", "skipped", detail="no withdrawal was applied")
            await self._finish(SagaState.COMPENSATED, reason)
            return

    async def _stopped_by_operator(self, stop: OperatorStopped) -> None:
        if stop.action == "compensate":
            await self._compensate(f"compensated by an operator: {stop.reason}")
        else:
            await self._finish(SagaState.RESOLVED, stop.reason)

    async def _wait_for_operator(self, step: str, error: str) -> tuple[Action, OperatorAction]:
        self._status.waiting_step, self._status.last_error = step, error
        await self._set_state(SagaState.NEEDS_OPERATOR, f"{step} failed: {error}")
        await workflow.wait_condition(lambda: self._pending is not None)
        assert self._pending is not None
        (action, decision), self._pending = self._pending, None
        self._record(step, "operator", detail=f"{action} by {decision.operator}: {decision.reason}")
        self._status.waiting_step = None
        self._set_search_state(SagaState.RUNNING)
        return action, decision

    async def _finish(self, state: SagaState, reason: str) -> None:
        await self._set_state(state, reason)

    async def _set_state(self, state: SagaState, reason: str) -> None:
        occurrence = len([s for s in self._status.steps if s.step == f"outcome:{state}"]) + 1
        self._record(f"outcome:{state}", "succeeded", occurrence, reason)
        await workflow.execute_activity(
            "record_outcome",
            OutcomeStep(
                transfer_id=self._transfer.transfer_id,
                state=state.value,
                reason=reason[:MAX_REASON],
                message_id=f"{workflow.info().workflow_id}/outcome/{state}/{occurrence}",
                correlation_id=self._transfer.correlation_id,
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=BOOKKEEPING,
        )
        self._set_search_state(state)

    def _set_search_state(self, state: SagaState) -> None:
        self._status.state = state
        workflow.upsert_search_attributes([SAGA_STATE.value_set(state.value)])
        self._describe()

    def _describe(self) -> None:
        t, s = self._transfer, self._status
        waiting = f", waiting on **{s.waiting_step}**: {s.last_error}" if s.waiting_step else ""
        workflow.set_current_details(
            f"Transfer **{t.amount} {t.currency}** from `{t.from_account_id}` "
            f"to `{t.to_account_id}`: **{s.state}**{waiting}"
        )

    def _record(self, step: str, status: str, attempt: int = 1, detail: str = "") -> None:
        self._status.steps.append(
            StepRecord.model_validate(
                {
                    "step": step,
                    "status": status,
                    "attempt": attempt,
                    "detail": detail,
                    "at": workflow.now(),
                }
            )
        )

    # --- the operator's interface ------------------------------------------------------

    @workflow.query
    def status(self) -> SagaStatus:
        """State, the step it waits on, the last error, and every step so far."""
        return self._status

    def _require_waiting(self) -> None:
        if self._status.state != SagaState.NEEDS_OPERATOR or self._pending is not None:
            raise ApplicationError(f"the saga is {self._status.state}, not waiting for an operator")

    @workflow.update
    async def retry(self, decision: OperatorAction) -> SagaStatus:
        """Run the failed step again."""
        self._pending = ("retry", decision)
        return self._status

    @retry.validator
    def _validate_retry(self, decision: OperatorAction) -> None:
        self._require_waiting()

    @workflow.update
    async def compensate(self, decision: OperatorAction) -> SagaStatus:
        """Give up going forward and undo what was done."""
        self._pending = ("compensate", decision)
        return self._status

    @compensate.validator
    def _validate_compensate(self, decision: OperatorAction) -> None:
        self._require_waiting()
        if self._status.waiting_step == "refund":
            raise ApplicationError("the saga is already compensating: use retry or resolve")

    @workflow.update
    async def resolve(self, decision: OperatorAction) -> SagaStatus:
        """Mark the transfer as settled by hand; nothing more runs."""
        self._pending = ("resolve", decision)
        return self._status

    @resolve.validator
    def _validate_resolve(self, decision: OperatorAction) -> None:
        self._require_waiting()
