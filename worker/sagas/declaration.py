"""What a context declares about each saga it runs; read by the starter, the runner,
retention, the reserved message ids and the ``sagas`` CLI."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from workflows.saga.types import CommandDispatcher


@dataclass(frozen=True)
class SagaDeclaration:
    """One kind of saga: its workflow, its activities and the event that starts a run.

    ``kind`` names everything of it: workflow ids ``<kind>-<business id>`` and the
    step keys ``<kind>-<business id>/<step>/<n>`` its activities use as message ids.
    """

    kind: str
    workflow: type[Any]
    #: The activities' callables, given the port they dispatch commands through.
    activities: Callable[[CommandDispatcher], Sequence[Callable[..., Any]]]
    #: The event type (``<aggregate type>.<EventName>``) whose outbox row starts a run.
    started_by: str
