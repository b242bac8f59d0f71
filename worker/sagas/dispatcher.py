"""The message bus, offered to the saga's activities as their command-dispatch port."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from worker.bus.failures import Failure, classify
from worker.bus.messagebus import MessageBus, UnitOfWorkFactory
from worker.bus.outcomes import Outcome
from worker.bus.registry import CommandRegistry
from worker.bus.unit_of_work import DuplicateMessage, MessageContext
from workflows.saga.types import DispatchResult

log = logging.getLogger("worker.sagas")

#: Seconds a step waits out a transient failure itself (under the step's 30 s
#: timeout), on each of the saga's attempts.
TRANSIENT_PATIENCE = 20.0
PATIENCE_BACKOFF = (0.2, 2.0)


class RunGuard(Protocol):
    """Refuses the steps of a saga run this database did not start (see ownership.py)."""

    async def require_ours(self) -> None: ...


class BusDispatcher:
    """Implements :class:`workflows.saga.types.CommandDispatcher` in-process.

    Commands go through the same bus, unit of work, inbox and outbox as those
    from RabbitMQ; the activity's message id makes each step happen once.
    Failures follow the one failure policy: the retryable classes propagate, so
    Temporal retries the activity; invalid and rejected ones become results.
    """

    def __init__(
        self,
        bus: MessageBus,
        uow_factory: UnitOfWorkFactory,
        commands: CommandRegistry,
        transient_patience: float = TRANSIENT_PATIENCE,
        ownership: RunGuard | None = None,
    ) -> None:
        self._ownership = ownership
        self._commands = commands
        self._bus = bus
        self._uow_factory = uow_factory
        self._transient_patience = transient_patience

    async def dispatch(
        self, command: str, fields: dict[str, Any], message_id: str, correlation_id: str | None
    ) -> DispatchResult:
        """Handle one step; a transient failure is retried here for ``transient_patience``.

        The saga gives a forward step a few attempts before compensating: without
        this patience, a database restart of 15 seconds would compensate sagas.
        """
        await self._require_ours()
        deadline = time.monotonic() + self._transient_patience
        delay = PATIENCE_BACKOFF[0]
        while True:
            try:
                return await self._dispatch_once(command, fields, message_id, correlation_id)
            except Exception as failed:
                if classify(failed) is not Failure.TRANSIENT:
                    raise
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("step %s waits for the database: %s", message_id, failed)
                await asyncio.sleep(delay)
                delay = min(delay * 2, PATIENCE_BACKOFF[1])

    async def _dispatch_once(
        self, command: str, fields: dict[str, Any], message_id: str, correlation_id: str | None
    ) -> DispatchResult:
        try:
            parsed = self._commands.parse(command, fields, internal=True)
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
        await self._require_ours()
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
        await self._require_ours()
        async with self._uow_factory(MessageContext(prefix, "query")) as uow:
            recorded = await uow.outcomes_with_prefix(prefix)
        return {message_id: outcome.status.value for message_id, outcome in recorded.items()}

    async def _require_ours(self) -> None:
        if self._ownership is not None:
            await self._ownership.require_ours()
