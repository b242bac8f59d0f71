"""The shared kernel: building blocks every aggregate of the model uses."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar


class Entity:
    """Something with an identity that outlives changes to its attributes."""

    id: str

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, Entity) and other.id == self.id

    def __hash__(self) -> int:
        return hash((type(self), self.id))


@dataclass(frozen=True)
class ValueObject:
    """Immutable, equal by value, and valid from construction on.

    Subclasses are frozen dataclasses that check their invariants in ``validate``.
    """

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise a :class:`domain.shared.errors.InvalidValue` if the value is not allowed."""


def _new_event_id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened to an aggregate, named in the past tense."""

    aggregate_type: ClassVar[str] = ""
    #: The payload's name for a field, where it is not the field's own: each context
    #: names the aggregate id (``account_id``), and a field that would hide a method
    #: (``name``) takes another name in Python.
    published_as: ClassVar[Mapping[str, str]] = {}

    aggregate_id: str
    aggregate_version: int
    event_id: str = field(default_factory=_new_event_id)
    occurred_at: datetime = field(default_factory=_now)

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @classmethod
    def type_name(cls) -> str:
        """``accounts.MoneyDeposited``: its routing key on ``domain-events`` and its outbox type."""
        return f"{cls.aggregate_type}.{cls.name()}"

    def payload(self) -> dict[str, Any]:
        """The event's own fields, without the envelope (id, version, time)."""
        envelope = {"event_id", "aggregate_version", "occurred_at"}
        named = self.published_as
        return {named.get(k, k): v for k, v in self.__dict__.items() if k not in envelope}


class AggregateRoot(Entity):
    """The consistency boundary: one aggregate changes per transaction.

    ``version`` counts committed changes and is checked on save (optimistic
    concurrency). Events are recorded, not sent: the unit of work collects them
    and writes them to the outbox in the same transaction.
    """

    def __init__(self, id: str, version: int = 0) -> None:
        self.id = id
        self.version = version
        self.pending_events: list[DomainEvent] = []

    @property
    def next_version(self) -> int:
        return self.version + len(self.pending_events) + 1

    def record(self, event: DomainEvent) -> None:
        self.pending_events.append(event)

    def collect_events(self) -> list[DomainEvent]:
        """Hand the pending events over (once they are saved) and advance the version."""
        events, self.pending_events = self.pending_events, []
        self.version += len(events)
        return events


class TimestampedAggregate(AggregateRoot):
    """An aggregate that knows when it was created and last changed (the seed's base entity).

    Both times are those of its events: ``created_at`` of the first one recorded,
    ``updated_at`` of the latest, so they are exactly what its events say.
    """

    def __init__(
        self,
        id: str,
        version: int = 0,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> None:
        super().__init__(id, version)
        self.created_at = created_at
        self.updated_at = updated_at or created_at

    def record(self, event: DomainEvent) -> None:
        super().record(event)
        if self.created_at is None:
            self.created_at = event.occurred_at
        self.updated_at = event.occurred_at
