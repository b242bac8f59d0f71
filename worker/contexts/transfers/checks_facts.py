"""What the transfer rules read: each transfer as a plain value, and whose step an event is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from domain.transfers.transfer import FINAL_STATES, TransferState
from worker.contexts.accounts.published import EventFacts
from worker.contexts.transfers.saga import TRANSFER_SAGA

#: The states a transfer ends in; a conflicted one never ran (its saga id was taken).
FINAL = frozenset(str(state) for state in FINAL_STATES)
CONFLICTED = str(TransferState.CONFLICTED)
#: A step key, ``<kind>-<transfer id>/<step>/<n>``: the message id a saga step's command has.
_STEP_KEY = re.compile(rf"^{re.escape(TRANSFER_SAGA.kind)}-([^/]*)/([^/]*)")


def workflow_id(transfer_id: str) -> str:
    """The id of a transfer's saga run, as the saga machinery names it (``<kind>-<id>``)."""
    return TRANSFER_SAGA.workflow_id(transfer_id)


@dataclass(frozen=True)
class TransferFacts:
    transfer_id: str
    from_account_id: str
    to_account_id: str
    amount: Decimal
    currency: str
    state: str
    #: Its TransferRequested event is still unsent: the relay has not started its saga yet.
    start_pending: bool = False
    reason: str = ""


def saga_step(event: EventFacts) -> tuple[str, str] | None:
    """(transfer id, step) if a transfer saga's step caused the event; None otherwise."""
    match = _STEP_KEY.match(event.causation_id or "")
    return None if match is None else (match[1], match[2])
