"""Where a saga stands: its status, the outcome recorded through an activity, the
``SagaState`` search attribute and the UI's details line.

Deterministic: workflow code, imported into the workflow sandbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, ClassVar

from temporalio import workflow

from workflows.saga.steps import BOOKKEEPING, STEP_TIMEOUT, Steps

with workflow.unsafe.imports_passed_through():
    from workflows.saga.types import SAGA_STATE, SagaState, SagaStatus

#: Since the saga base, a cancellation no longer cancels a compensation or an outcome
#: being recorded (see the saga base's notes on patching).
SHIELD_PATCH = "saga-base-shielded-compensation"


class Standing:
    """A saga's status and how it is shown; what the saga is, its subclass says."""

    OUTCOME_ACTIVITY: ClassVar[str] = "record_outcome"
    #: Reasons are recorded on the saga's aggregate, which keeps a bounded text.
    MAX_REASON: ClassVar[int] = 1000

    def __init__(self) -> None:
        self._status = SagaStatus()
        self.steps = Steps(self._status.steps)
        self._current_step: str | None = None

    def describe(self) -> str:
        """What this saga does, for the UI's details line (the base adds where it stands)."""
        raise NotImplementedError

    def outcome(self, state: SagaState, reason: str, message_id: str) -> object:
        """The input of ``OUTCOME_ACTIVITY``, which records where the saga stands."""
        raise NotImplementedError

    def _on_cancel(self) -> None:
        """What a cancellation changes for the work that :meth:`_shielded` lets finish."""

    async def _shielded(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` to its end even if the saga is cancelled meanwhile, then end cancelled."""
        task = asyncio.ensure_future(work)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not workflow.patched(SHIELD_PATCH):
                task.cancel()  # what runs begun before the saga base did, replayed as they were
                await task
                return
            self._on_cancel()
            await task
            raise

    async def _set_state(self, state: SagaState, reason: str) -> None:
        """Record ``state`` with its reason, then show it; a cancellation waits for both."""
        await self._shielded(self._record_state(state, reason))

    async def _record_state(self, state: SagaState, reason: str) -> None:
        occurrence = self.steps.count(f"outcome:{state}") + 1
        self.steps.record(f"outcome:{state}", "succeeded", occurrence, reason)
        message_id = f"{workflow.info().workflow_id}/outcome/{state}/{occurrence}"
        await workflow.execute_activity(
            self.OUTCOME_ACTIVITY,
            self.outcome(state, reason[: self.MAX_REASON], message_id),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=BOOKKEEPING,
        )
        self._set_search_state(state)

    def _set_search_state(self, state: SagaState) -> None:
        self._status.state = state
        workflow.upsert_search_attributes([SAGA_STATE.value_set(state.value)])
        self._show()

    def _at(self, step: str) -> None:
        """Show that the saga is at ``step`` now (the UI's details line; not in its history)."""
        self._current_step = step
        self._show()

    def _show(self) -> None:
        s = self._status
        if s.waiting_step:
            where = f", waiting on **{s.waiting_step}**: {s.last_error}"
        elif s.state == SagaState.RUNNING and self._current_step:
            where = f", at **{self._current_step}**"
        else:
            where = ""
        workflow.set_current_details(f"{self.describe()}: **{s.state}**{where}")
