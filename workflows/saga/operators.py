"""The operator's side of every saga: waiting in *needs_operator*, the ``status`` query
and the three validated updates, which only hand their decision to the waiting saga.

Deterministic: workflow code, imported into the workflow sandbox.
"""

from __future__ import annotations

from typing import Literal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.saga.standing import Standing

with workflow.unsafe.imports_passed_through():
    from workflows.saga.types import OperatorAction, SagaState, SagaStatus

Action = Literal["retry", "compensate", "resolve"]
CANCELLED = "the saga was cancelled"


class OperatorDesk(Standing):
    """Where operators read a saga and decide for one that waits for them."""

    def __init__(self) -> None:
        super().__init__()
        self._pending: tuple[Action, OperatorAction] | None = None
        #: The saga waits on a compensation, so "compensate" has nothing left to start.
        self._waiting_to_undo = False
        #: A cancellation came while a compensation waited: it goes on without a decision.
        self._interrupted = False

    async def _ask_operator(
        self, step: str, error: str, undoing: bool = False
    ) -> tuple[Action, str]:
        """Wait in *needs_operator* for a decision on ``step``; return it and its reason."""
        self._status.waiting_step, self._status.last_error = step, error
        self._waiting_to_undo = undoing
        await self._set_state(SagaState.NEEDS_OPERATOR, f"{step} failed: {error}")
        await workflow.wait_condition(lambda: self._pending is not None or self._interrupted)
        decided, self._pending = self._pending, None
        self._status.waiting_step, self._waiting_to_undo = None, False
        if decided is None:  # a cancellation: nobody decides any more, the undo goes on
            self._interrupted = False
            if self._status.state == SagaState.NEEDS_OPERATOR:
                self._set_search_state(SagaState.RUNNING)
            return "retry", CANCELLED
        action, decision = decided
        detail = f"{action} by {decision.operator}: {decision.reason}"
        self.steps.record(step, "operator", detail=detail)
        self._set_search_state(SagaState.RUNNING)
        return action, decision.reason

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
        if self._waiting_to_undo:
            raise ApplicationError("the saga is already compensating: use retry or resolve")

    @workflow.update
    async def resolve(self, decision: OperatorAction) -> SagaStatus:
        """Mark the saga as settled by hand; nothing more runs."""
        self._pending = ("resolve", decision)
        return self._status

    @resolve.validator
    def _validate_resolve(self, decision: OperatorAction) -> None:
        self._require_waiting()
