"""The message bus, offered to the saga's activities as their command-dispatch port."""

from __future__ import annotations

from domain.errors import InvalidValue
from worker.commands import InvalidCommand, parse_command
from worker.messagebus import MessageBus, UnitOfWorkFactory
from worker.unit_of_work import MessageContext
from workflows.transfers.shared import DispatchResult


class BusDispatcher:
    """Implements :class:`workflows.transfers.shared.CommandDispatcher` in-process.

    Commands go through the same bus, unit of work, inbox and outbox as those
    from RabbitMQ; the activity's message id makes each step happen once.
    Transient errors propagate, so Temporal retries the activity.
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
        except InvalidCommand as invalid:
            return DispatchResult(
                status="invalid", error_code=invalid.code, error_message=invalid.message
            )
        except InvalidValue as invalid:
            return DispatchResult(
                status="invalid", error_code=invalid.code, error_message=str(invalid)
            )
        error = outcome.error
        return DispatchResult(
            status=outcome.status.value,
            error_code=error.code if error else None,
            error_message=error.message if error else None,
        )

    async def recorded_status(self, message_id: str) -> str | None:
        async with self._uow_factory(MessageContext(message_id, "query")) as uow:
            recorded = await uow.recorded_outcome()
        return None if recorded is None else recorded.status.value
