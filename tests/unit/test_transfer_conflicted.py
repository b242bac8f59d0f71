"""A transfer whose saga id belongs to another request's run ends conflicted, for good."""

from __future__ import annotations

import pytest

from domain.shared.errors import InvalidStateTransition
from domain.shared.money import Money
from domain.transfers.transfer import Transfer, TransferState
from tests.wiring import COMMANDS

REASON = "workflow transfer-t-1 belongs to another request: run r-1, started ..."


def test_a_conflicted_transfer_records_the_reason_naming_the_other_run_and_is_final() -> None:
    transfer = Transfer.request("t-1", "alice", "bob", Money.of("1.00", "EUR"))
    transfer.collect_events()

    transfer.end(TransferState.CONFLICTED, REASON)

    [event] = transfer.pending_events
    assert (event.name(), event.payload()["reason"]) == ("TransferConflicted", REASON)
    assert transfer.is_final
    with pytest.raises(InvalidStateTransition, match="already ended conflicted"):
        transfer.end(TransferState.COMPLETED)


def test_the_saga_starter_may_record_a_conflict_through_the_bus() -> None:
    fields = {"transfer_id": "t-1", "state": "conflicted", "reason": REASON}

    command = COMMANDS.parse("RecordTransferOutcome", fields, internal=True)

    assert command.model_dump()["state"] == "conflicted"
