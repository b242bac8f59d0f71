"""The message bus, offered to the saga's activities as their command-dispatch port."""

from __future__ import annotations

from worker.commands import parse_command
from worker.failures import Failure, classify
from worker.messagebus import MessageBus, UnitOfWorkFactory
from worker.outcomes import Outcome
from worker.unit_of_work import DuplicateMessage, MessageContext
from workflows.transfers.shared import DispatchResult


class BusDispatcher:
    """Implements :class:`workflows.transfers.shared.CommandDispatcher` in-process.

    Commands go through the same bus, unit of work, inbox and outbox as those
    from RabbitMQ; the activity's message id makes each step happen once.
    Failures follow the one failure policy: the retryable classes propagate, so
    Temporal retries the activity; invalid and rejected ones become results.
    """

    def __init__(self, bus: MessageBus, uow_factory: UnitOfWorkFactory) -> None:
        self._bus = bus
        self._uow_factory = uow_factory

    async def dispatch(
        self, command: str, fields: dict[str, str], message_id: str, correlation_id: str | None
    ) -> DispatchResult:
        try:
            parsed = parse_command(command, fields, internal=True)
            outcome = await self._bus.handle(
                parsed, MessageContext(message_id, command, correlation_id)
            )
        except Exception as failed:
            failure = classify(failed)
            if failure.retryable:
                raise  # the activity fails and Temporal retries it
            code = str(getattr(failed, "code", failure.value))
            return DispatchResult(
                status="invalid" if failure is Failure.INVALID else "rejected",
                error_code=code,
                error_message=str(failed),
            )
        error = outcome.error
        return DispatchResult(
            status=outcome.status.value,
            error_code=error.code if error else None,
            error_message=error.message if error else None,
        )

    async def settle(self, message_ids: list[str]) -> dict[str, str]:
        return {message_id: await self._settle(message_id) for message_id in message_ids}

    async def _settle(self, message_id: str) -> str:
        superseded = Outcome.rejected(
            message_id, "superseded", "the saga moved on before this step was applied"
        )
        while True:
            async with self._uow_factory(MessageContext(message_id, "Superseded")) as uow:
                recorded = await uow.recorded_outcome()
                if recorded is not None:
                    return recorded.status.value
                try:
                    await uow.commit(superseded)
                except DuplicateMessage:
                    continue  # the step itself committed just now: read what it did
                return superseded.status.value

    async def recorded_with_prefix(self, prefix: str) -> dict[str, str]:
        async with self._uow_factory(MessageContext(prefix, "query")) as uow:
            recorded = await uow.outcomes_with_prefix(prefix)
        return {message_id: outcome.status.value for message_id, outcome in recorded.items()}
