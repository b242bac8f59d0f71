"""What a context declares about each saga it runs; read by the starter, the runner,
retention, the reserved message ids, ``send --wait-saga`` and the ``sagas`` CLI."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from temporalio.common import SearchAttributeKey

from worker.bus.commands import Command
from workflows.saga.types import CommandDispatcher

#: The record's state once the start found the saga's id taken by a run of another
#: request (a recreated or restored database): final, and nothing was done.
CONFLICTED = "conflicted"
KIND_PATTERN = re.compile(r"[a-z][a-z0-9]{0,31}")
#: The record's state while its saga waits for an operator.
NEEDS_OPERATOR = "needs_operator"


@dataclass(frozen=True)
class SagaRecord:
    """Where a saga's business record lives: one row per business id, with its state.

    Its states are the saga's own names (``completed``, ``rejected``,
    ``needs_operator``, ... and :data:`CONFLICTED`). Retention keeps a saga's step
    rows until its record is in an ``ended`` state; ``send --wait-saga`` and
    ``sagas show`` read it first, so they never report a run that was not started
    for it.
    """

    table: str
    ended: frozenset[str]
    id_column: str = "id"
    state_column: str = "state"
    reason_column: str = "reason"
    #: The ended state in which the saga did what it was asked (``send --wait-saga`` exits 0).
    succeeded: str = "completed"


@dataclass(frozen=True)
class SagaDeclaration:
    """One kind of saga: its workflow, its activities and the event that starts a run.

    ``kind`` names everything of it: workflow ids ``<kind>-<business id>`` and the
    step keys ``<kind>-<business id>/<step>/<n>`` its activities use as message ids.
    """

    kind: str
    workflow: type[Any]
    #: The workflow type's name in Temporal (what visibility queries select on).
    workflow_name: str
    #: The activities' callables, given the port they dispatch commands through.
    activities: Callable[[CommandDispatcher], Sequence[Callable[..., Any]]]
    #: The event type (``<aggregate type>.<EventName>``) whose outbox row starts a run;
    #: its aggregate is the record (its aggregate id, the business id).
    started_by: str
    #: The workflow's input model, and how to make it from the starting event's
    #: payload and correlation id.
    input_type: type[BaseModel]
    start_input: Callable[[Mapping[str, Any], str | None], BaseModel]
    #: The business id a workflow input belongs to.
    business_id: Callable[[Any], str]
    #: The one line the Temporal UI shows for a run, given its input.
    summary: Callable[[Any], str]
    #: The keyword search attribute holding the business id (e.g. ``TransferId``).
    id_attribute: SearchAttributeKey[str]
    record: SagaRecord
    #: The command (name, fields) that ends the record in :data:`CONFLICTED`, given
    #: the business id and the reason; dispatched through the bus by the starter.
    conflict_command: Callable[[str, str], tuple[str, dict[str, Any]]]
    #: The commands whose acceptance requests a run (their ``aggregate_id`` is the
    #: business id): what ``send --wait-saga`` waits for.
    requested_by: tuple[type[Command], ...] = ()
    #: Its own Temporal task queue, so that its workers can be scaled and deployed apart
    #: (``None``: ``TEMPORAL_TASK_QUEUE``, shared by every saga that declares none).
    task_queue: str | None = None

    def __post_init__(self) -> None:
        # Lower-case letters and digits: the kind starts message ids, workflow ids and
        # SQL LIKE patterns, where "-", "_" and "%" would make them ambiguous.
        if not KIND_PATTERN.fullmatch(self.kind):
            raise ValueError(f"saga kind {self.kind!r} does not match {KIND_PATTERN.pattern}")

    def workflow_id(self, business_id: str) -> str:
        return f"{self.kind}-{business_id}"

    def business_id_of(self, workflow_id: str) -> str:
        return workflow_id.removeprefix(f"{self.kind}-")

    @property
    def id_key(self) -> str:
        """The JSON key the ``sagas`` CLI names the business id by (``transfer_id``)."""
        return f"{self.kind}_id"
