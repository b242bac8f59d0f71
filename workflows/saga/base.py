"""The saga base: a workflow class subclasses :class:`Saga` and writes its business process.

Deterministic: workflow code, imported into the workflow sandbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from temporalio import workflow

from workflows.saga.operators import CANCELLED, OperatorDesk
from workflows.saga.steps import COMPENSATION, FORWARD, Build, StepFailed, Steps

with workflow.unsafe.imports_passed_through():
    from workflows.saga.types import SagaState, SagaStatus

Status = TypeVar("Status", bound=SagaStatus)
#: Undoes one step: returns None once undone, or the state the saga ends in instead
#: (COMPLETED when it finds that the forward steps did happen after all).
Undo = Callable[[], Awaitable[SagaState | None]]
WhenFailing = Literal["compensate", "ask_operator"]

#: Since then, a cancellation that arrives while a forward step runs is not lost.
STEP_CANCEL_PATCH = "saga-base-cancel-after-step"

#: How the reason of a compensation an operator asked for begins.
BY_AN_OPERATOR = "compensated by an operator: "

ENDED = frozenset(
    {SagaState.COMPLETED, SagaState.REJECTED, SagaState.COMPENSATED, SagaState.RESOLVED}
)


class _Compensate(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _End(Exception):
    def __init__(self, state: SagaState, reason: str) -> None:
        super().__init__(reason)
        self.state, self.reason = state, reason


class Saga(OperatorDesk):
    """Steps with idempotency keys, compensations, operators, status and outcome.

    A subclass is a ``@workflow.defn`` whose ``@workflow.run`` passes its business
    process to :meth:`run_saga`; the process runs the forward steps with
    :meth:`step`. The subclass also says what it is (:meth:`describe`) and what
    records its outcome (:meth:`outcome`, the input of its ``OUTCOME_ACTIVITY``).
    """

    def __init__(self) -> None:
        super().__init__()
        self._undo: list[Undo] = []
        self._undo_reason = ""

    async def run_saga(self, status: Status, process: Callable[[], Awaitable[None]]) -> Status:
        """Run ``process``, then complete, compensate or wait for an operator; return ``status``."""
        self._status = status
        self.steps = Steps(status.steps)
        self._show()
        try:
            await self._forward(process)
        except asyncio.CancelledError:
            if self._status.state not in ENDED:
                # Nothing waits for an operator any more, so no decision can be taken.
                self._pending, self._status.waiting_step = None, None
                self._set_search_state(SagaState.RUNNING)
                await self._shielded(self._compensate(CANCELLED))
            raise
        return status

    async def step(
        self,
        name: str,
        build: Build,
        *,
        undo: Undo | None = None,
        when_failing: WhenFailing = "compensate",
        result_type: type | None = None,
    ) -> Any:
        """Run the forward step ``name`` (its activity's name); ``undo`` compensates it.

        ``undo`` is registered before the step runs: a step that failed or was
        cancelled may have applied all the same. A refusal did not apply, so it
        drops the step's own ``undo`` and ends the saga *rejected* when nothing is
        left to undo, compensated otherwise. A step out of retries is compensated,
        or waits for an operator with ``when_failing="ask_operator"``.
        """
        if undo is not None:
            self._undo.append(undo)
        self._at(name)
        while True:
            try:
                done = await self.steps.run(name, build, FORWARD, result_type)
            except StepFailed as failure:
                if failure.refused and undo is not None:
                    self._undo.remove(undo)
                if failure.refused and not self._undo:
                    raise _End(SagaState.REJECTED, failure.reason) from None
                if failure.refused or when_failing == "compensate":
                    raise _Compensate(failure.reason) from None
                action, reason = await self._ask_operator(name, failure.reason)
                if action == "compensate":
                    raise _Compensate(f"{BY_AN_OPERATOR}{reason}") from None
                if action == "resolve":
                    raise _End(SagaState.RESOLVED, reason) from None
            else:
                self._stop_if_cancelled()
                return done

    def _stop_if_cancelled(self) -> None:
        """A cancellation that came while a step ran stops the saga after the step.

        A step's activity does not heartbeat, so it never hears of the cancellation
        and finishes; Temporal hands its result back and forgets the request. Runs
        begun before the base asked this replay as they ran (the patch says False).
        """
        if workflow.cancellation_reason() is not None and workflow.patched(STEP_CANCEL_PATCH):
            raise asyncio.CancelledError()

    async def undo_step(self, name: str, build: Build, result_type: type | None = None) -> Any:
        """Run the activity ``name`` for an ``undo``: retried longer, then asks an operator."""
        self._at(name)
        return await self.steps.run(name, build, COMPENSATION, result_type)

    async def _forward(self, process: Callable[[], Awaitable[None]]) -> None:
        try:
            await process()
        except _Compensate as failure:
            await self._shielded(self._compensate(failure.reason))
        except _End as end:
            await self._set_state(end.state, end.reason)
        else:
            await self._set_state(SagaState.COMPLETED, "")

    async def _compensate(self, reason: str) -> None:
        """Undo every step that may have applied, newest first."""
        self._undo_reason = reason
        for undo in reversed(self._undo):
            ending = await self._until_undone(undo)
            if ending is not None:
                await self._set_state(*ending)
                return
        await self._set_state(SagaState.COMPENSATED, self._undo_reason)

    async def _until_undone(self, undo: Undo) -> tuple[SagaState, str] | None:
        """Run ``undo`` until it works or an operator resolves the saga by hand."""
        while True:
            try:
                instead = await undo()
            except StepFailed as failure:
                action, reason = await self._ask_operator(failure.step, failure.reason, True)
                if action == "resolve":
                    return SagaState.RESOLVED, reason
                continue
            return None if instead is None else (instead, "")

    def _on_cancel(self) -> None:
        self._interrupted = self._waiting_to_undo and self._status.waiting_step is not None
        if self._interrupted:  # the cancellation, not an operator, has the undo go on
            self._undo_reason = CANCELLED
