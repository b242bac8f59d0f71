"""What a context declares to follow events: a projection or a policy, and what each is given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from worker.bus.message_ids import POLICY_PREFIX

if TYPE_CHECKING:
    from worker.bus.commands import Command
    from worker.readside.read_model import ReadModel

__all__ = ["POLICY_PREFIX", "LoggedEvent", "Policy", "Projection", "Subscription"]


@dataclass(frozen=True)
class LoggedEvent:
    """One event of the log, as a handler gets it (never the delivery's body: the log's row)."""

    position: int
    event_id: str
    #: ``<aggregate type>.<EventName>``, as published.
    event_type: str
    aggregate_type: str
    aggregate_id: str
    aggregate_version: int
    #: The published JSON payload (its ``occurred_at`` included).
    payload: Mapping[str, Any]
    #: When it happened (the payload's ``occurred_at``, ISO 8601).
    occurred_at: str
    correlation_id: str | None
    #: The message id of the command that caused it (a saga step's own key for a saga).
    causation_id: str | None


#: Applies one event to a read model, in the handler's transaction. Called for each
#: aggregate's events in version order, once each.
ApplyEvent = Callable[["LoggedEvent", "ReadModel"], Awaitable[None]]
#: The commands a policy issues for one event: pure, decided from the event alone.
Decide = Callable[["LoggedEvent"], Sequence["Command"]]


@dataclass(frozen=True)
class Projection:
    """Keeps a read model: its own tables, updated from the events it subscribes to.

    ``tables`` maps each logical table name to the DDL that creates it, with
    ``{table}`` where the physical name goes (``<logical>_g<generation>``: a rebuild
    fills a fresh generation and swaps it in). Portable SQL (SQLite and PostgreSQL).
    """

    name: str
    events: tuple[str, ...]
    tables: Mapping[str, tuple[str, ...]]
    apply: ApplyEvent
    kind: ClassVar[Literal["projection"]] = "projection"

    def __post_init__(self) -> None:
        _check_name(self.name, self.events)


@dataclass(frozen=True)
class Policy:
    """Issues commands when events happen: exactly once per event, from when it starts.

    Its commands go through the command outbox with message ids derived from the
    handler and the event (:meth:`message_id`), so a duplicate collapses in the
    receiver's inbox; events logged before the policy first started never fire it.
    """

    name: str
    events: tuple[str, ...]
    decide: Decide
    kind: ClassVar[Literal["policy"]] = "policy"

    def __post_init__(self) -> None:
        _check_name(self.name, self.events)

    def message_id(self, event_id: str, index: int) -> str:
        return f"{POLICY_PREFIX}{self.name}/{event_id}/{index}"


Subscription = Projection | Policy


def _check_name(name: str, events: tuple[str, ...]) -> None:
    if not name or not name.replace("_", "").isalnum() or not name.islower():
        raise ValueError(f"a handler's name is lower_snake_case: {name!r}")
    if not events:
        raise ValueError(f"handler {name!r} subscribes to no event")


def physical_table(logical: str, generation: int) -> str:
    return f"{logical}_g{generation}"
