"""A saga's steps: their keys, their records, and each one run as an activity.

Deterministic: workflow code, imported into the workflow sandbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from workflows.saga.activities import REFUSED
    from workflows.saga.types import StepRecord

STEP_TIMEOUT = timedelta(seconds=30)
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

Status = Literal["started", "succeeded", "refused", "failed", "cancelled", "skipped", "operator"]
#: Builds a step's activity input from its key, the message id of its command.
Build = Callable[[str], object]


class StepFailed(Exception):
    """A step's activity failed for good: refused by the business, or out of retries."""

    def __init__(self, step: str, reason: str, refused: bool) -> None:
        super().__init__(reason)
        self.step, self.reason, self.refused = step, reason, refused


class Steps:
    """The steps of one saga run: attempts, the keys each step used, and their records.

    A step's key is ``<workflow id>/<step>/<n>``; ``n`` grows only after a refusal,
    because the inbox would repeat a refusal to the same key. Any other failure
    keeps the key, so a step retried later is answered from the inbox if it applied.
    """

    def __init__(self, records: list[StepRecord]) -> None:
        self._records = records
        self._attempts: dict[str, int] = {}
        self._keys: dict[str, list[str]] = {}

    def key(self, step: str) -> str:
        attempt = self._attempts.setdefault(step, 1)
        key = f"{workflow.info().workflow_id}/{step}/{attempt}"
        used = self._keys.setdefault(step, [])
        if key not in used:
            used.append(key)
        return key

    def keys_used(self, step: str) -> list[str]:
        """Every key ``step`` was tried with so far: what a compensation must look up."""
        return list(self._keys.get(step, []))

    def record(self, step: str, status: Status, attempt: int = 1, detail: str = "") -> None:
        self._records.append(
            StepRecord(step=step, status=status, attempt=attempt, detail=detail, at=workflow.now())
        )

    def count(self, step: str) -> int:
        return len([record for record in self._records if record.step == step])

    async def run(
        self, step: str, build: Build, policy: RetryPolicy, result_type: type | None = None
    ) -> Any:
        """Run ``step``'s activity (named like the step) once, under ``policy``'s retries."""
        arg = build(self.key(step))
        attempt = self._attempts.get(step, 1)
        self.record(step, "started", attempt)
        try:
            result = await workflow.execute_activity(
                step,
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
                self.record(step, "cancelled", attempt)
                raise asyncio.CancelledError() from None
            refused = isinstance(cause, ApplicationError) and cause.type == REFUSED
            reason = getattr(cause, "message", None) or str(cause or error)
            self.record(step, "refused" if refused else "failed", attempt, reason)
            if refused:
                self._attempts[step] = attempt + 1
            raise StepFailed(step, reason, refused) from None
        self.record(step, "succeeded", attempt)
        return result
