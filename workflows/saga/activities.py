"""What every saga's activities share: one command through the bus per call, and the two
error types a saga tells apart from the failures Temporal retries."""

from __future__ import annotations

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
