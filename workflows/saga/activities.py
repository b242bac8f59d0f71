"""What every saga's activities share: one command through the bus per call, and the two
error types a saga tells apart from the failures Temporal retries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio.exceptions import ApplicationError

from domain.shared.errors import FailureClass
from workflows.saga.types import CommandDispatcher, DispatchResult

#: The error type of every business refusal, which the workflow never retries.
REFUSED = "BusinessRefusal"
#: A command the bus found malformed: a bug in the saga, never taken for a refusal.
INVALID = "InvalidCommand"


def raise_unless_accepted(result: DispatchResult) -> None:
    """Refusals and malformed commands end the step; whatever the bus raised is retried.

    Transient failures, conflicts and bugs escape ``dispatch`` as exceptions, which
    Temporal retries under the step's retry policy (the failure policy's
    ``retryable`` classes); only the two final answers stop here.
    """
    if result.status == "accepted":
        return
    failure = FailureClass.REJECTED if result.status == "rejected" else FailureClass.INVALID
    raise ApplicationError(
        f"{result.error_code}: {result.error_message}",
        result.error_code,
        type=REFUSED if failure is FailureClass.REJECTED else INVALID,
        non_retryable=not failure.retryable,
    )


@dataclass(frozen=True)
class Applied:
    """The message ids of one saga run that the inbox holds as accepted."""

    saga: str
    ids: set[str]

    def step(self, name: str) -> bool:
        """Whether any attempt of the step ``name`` was applied."""
        return any(key.startswith(f"{self.saga}/{name}/") for key in self.ids)


class CommandActivities:
    """The base of a saga's activity class: it receives the bus and holds no other state.

    Each call carries a message id derived from the workflow id and the step, so
    a retried activity finds its earlier outcome in the inbox instead of applying
    its command twice.
    """

    def __init__(self, dispatcher: CommandDispatcher) -> None:
        self._dispatcher = dispatcher

    async def _dispatch(
        self, command: str, fields: dict[str, Any], message_id: str, correlation_id: str | None
    ) -> None:
        """Dispatch one command; a refusal or a malformed command raises (see above)."""
        result = await self._dispatcher.dispatch(command, fields, message_id, correlation_id)
        raise_unless_accepted(result)

    async def applied(self, key: str, attempts: list[str]) -> Applied:
        """What the saga of step ``key`` applied, once ``attempts`` can no longer apply:
        what a compensation decides on.

        Read from the inbox, because a step whose activity failed may still have
        committed; the attempts without an outcome are settled first (recorded as
        superseded), so none of them can commit after the decision.
        """
        saga = key.rsplit("/", 2)[0]
        recorded = await self._dispatcher.recorded_with_prefix(f"{saga}/")
        settled = await self._dispatcher.settle(attempts)
        statuses = {**recorded, **settled}
        return Applied(saga, {k for k, status in statuses.items() if status == "accepted"})
