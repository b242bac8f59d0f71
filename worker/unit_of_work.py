"""The unit-of-work port: one per message, never shared between messages."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from types import TracebackType

from domain.ports import AccountRepository, TransferRepository
from worker.outcomes import Outcome


@dataclass(frozen=True)
class MessageContext:
    """Who asked for the change: stamped on the inbox row and on every event."""

    message_id: str
    command_name: str
    correlation_id: str | None = None


class DuplicateMessage(Exception):
    """Another delivery of the same message id committed first."""


class UnitOfWork(abc.ABC):
    """One database transaction around one message.

    ``commit`` writes, atomically: the aggregates the handler changed (with a
    version check), their events to the outbox, and the message's outcome to
    the inbox. Leaving the block without ``commit`` rolls everything back.
    """

    accounts: AccountRepository
    transfers: TransferRepository

    def __init__(self, context: MessageContext) -> None:
        self.context = context
        self.events_committed = 0

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    @abc.abstractmethod
    async def recorded_outcome(self) -> Outcome | None:
        """The outcome already recorded for this message id, if any."""

    @abc.abstractmethod
    async def outcomes_with_prefix(self, prefix: str) -> dict[str, Outcome]:
        """Every recorded outcome whose message id starts with ``prefix`` (a saga's steps)."""

    @abc.abstractmethod
    def discard_changes(self) -> None:
        """Forget changes to loaded aggregates (a rejection commits only its outcome)."""

    @abc.abstractmethod
    async def commit(self, outcome: Outcome) -> None:
        """Save changed aggregates, their events and the outcome in one transaction.

        Raises :class:`domain.errors.ConcurrencyConflict` when an aggregate changed
        underneath, and :class:`DuplicateMessage` when the message id was recorded
        concurrently.
        """

    @abc.abstractmethod
    async def rollback(self) -> None:
        """Undo whatever was not committed; safe to call more than once."""
