"""What every saga shares: its state, step records, status, operator actions, and the
port its activities dispatch commands through."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from temporalio.common import SearchAttributeKey

SAGA_STATE = SearchAttributeKey.for_keyword("SagaState")


class SagaState(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    REJECTED = "rejected"
    COMPENSATED = "compensated"
    NEEDS_OPERATOR = "needs_operator"
    RESOLVED = "resolved"


class OperatorAction(BaseModel):
    """What an operator asks of a saga that waits for one; recorded in its history."""

    reason: str = Field(min_length=1, max_length=2000)
    operator: str = Field(min_length=1, max_length=200)


class StepRecord(BaseModel):
    step: str
    status: Literal["started", "succeeded", "refused", "failed", "cancelled", "skipped", "operator"]
    attempt: int = 1
    detail: str = ""
    at: datetime


class SagaStatus(BaseModel):
    """What the ``status`` query returns, and the workflow's result.

    Each saga subclasses it with its business key (``TransferStatus.transfer_id``);
    a reader that knows no saga in particular keeps those fields as extras, so
    whatever it prints or dumps still has them.
    """

    model_config = ConfigDict(extra="allow")

    state: SagaState = SagaState.RUNNING
    waiting_step: str | None = None
    last_error: str | None = None
    steps: list[StepRecord] = Field(default_factory=list)


class DispatchResult(BaseModel):
    status: Literal["accepted", "rejected", "invalid"]
    error_code: str | None = None
    error_message: str | None = None


class CommandDispatcher(Protocol):
    """The port the activities need: the worker's message bus, in-process."""

    async def dispatch(
        self, command: str, fields: dict[str, Any], message_id: str, correlation_id: str | None
    ) -> DispatchResult:
        """Handle one command exactly once per ``message_id`` and say how it went.

        ``fields`` are the command's JSON values (strings, integers, lists, objects).
        """
        ...

    async def settle(self, message_ids: list[str]) -> dict[str, str]:
        """The recorded status of each id ("accepted", "rejected").

        An id with no outcome yet is recorded now as rejected (superseded), so an
        attempt still in flight somewhere can no longer apply after this answer.
        """
        ...

    async def recorded_with_prefix(self, prefix: str) -> dict[str, str]:
        """The recorded status of every message id that starts with ``prefix``."""
        ...
