"""The unit-of-work port: one per message, never shared between messages."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar, cast

from domain.shared.model import AggregateRoot
from domain.shared.ports import Repository
from worker.bus.outcomes import Outcome

A = TypeVar("A", bound=AggregateRoot)
P = TypeVar("P")


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

    def __init__(
        self,
        context: MessageContext,
        read_ports: Mapping[type[Any], Callable[[UnitOfWork], object]] | None = None,
    ) -> None:
        self.context = context
        self.events_committed = 0
        self._read_ports = read_ports or {}

    @abc.abstractmethod
    def repository(self, kind: type[A]) -> Repository[A]:
        """The repository of ``kind``, an aggregate some context declared, in this transaction.

        Every aggregate it hands out or is given is saved at commit, and its events
        go to the outbox, whatever context it belongs to.
        """

    def read_port(self, port: type[P]) -> P:
        """A read port another context publishes (``BoundedContext.read_ports``), reading
        in this unit of work's transaction."""
        make = self._read_ports.get(port)
        if make is None:
            raise LookupError(f"no bounded context publishes the read port {port.__qualname__}")
        return cast(P, make(self))

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

        Raises :class:`domain.shared.errors.ConcurrencyConflict` when an aggregate changed
        underneath, and :class:`DuplicateMessage` when the message id was recorded
        concurrently.
        """

    @abc.abstractmethod
    async def rollback(self) -> None:
        """Undo whatever was not committed; safe to call more than once."""
