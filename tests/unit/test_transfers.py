"""Transfers: the aggregate, its commands, and its handlers through the bus."""

from __future__ import annotations

import pytest

from domain.shared.errors import InvalidStateTransition, InvalidValue
from domain.shared.money import Money
from domain.transfers.errors import TransferConflict
from domain.transfers.transfer import Transfer, TransferState
from tests.fakes import FakeUnitOfWorkFactory
from tests.wiring import COMMANDS as REGISTRY
from tests.wiring import HANDLERS as COMMAND_HANDLERS
from worker.bus.commands import InvalidCommand
from worker.bus.messagebus import MessageBus
from worker.bus.outcomes import Status
from worker.bus.unit_of_work import MessageContext
from worker.contexts.transfers.commands import RecordTransferOutcome, TransferMoney

parse_command = REGISTRY.parse

REQUEST = {
    "transfer_id": "t-1",
    "from_account_id": "alice",
    "to_account_id": "bob",
    "amount": "12.50",
    "currency": "EUR",
}


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def test_a_requested_transfer_records_transfer_requested() -> None:
    transfer = Transfer.request("t-1", "alice", "bob", eur("12.50"))
    [event] = transfer.pending_events
    assert event.name() == "TransferRequested"
    assert event.payload() == {
        "transfer_id": "t-1",
        "from_account_id": "alice",
        "to_account_id": "bob",
        "amount": "12.50",
        "currency": "EUR",
    }


def test_a_transfer_needs_two_different_accounts_and_a_positive_amount() -> None:
    with pytest.raises(InvalidValue):
        Transfer.request("t-1", "alice", "alice", eur("1.00"))
    with pytest.raises(InvalidValue):
        Transfer.request("t-1", "alice", "bob", eur("0"))


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (TransferState.COMPLETED, "TransferCompleted"),
        (TransferState.REJECTED, "TransferRejected"),
        (TransferState.COMPENSATED, "TransferCompensated"),
        (TransferState.NEEDS_OPERATOR, "TransferNeedsOperator"),
        (TransferState.RESOLVED, "TransferResolved"),
    ],
)
def test_each_outcome_records_its_event(state: TransferState, event: str) -> None:
    transfer = Transfer.request("t-1", "alice", "bob", eur("1.00"))
    transfer.collect_events()
    transfer.end(state, "why")
    [recorded] = transfer.pending_events
    assert recorded.name() == event
    assert recorded.aggregate_version == 2


def test_the_same_outcome_twice_changes_nothing_and_a_final_state_is_final() -> None:
    transfer = Transfer.request("t-1", "alice", "bob", eur("1.00"))
    transfer.collect_events()
    transfer.end(TransferState.NEEDS_OPERATOR, "refund refused")
    transfer.end(TransferState.NEEDS_OPERATOR, "refund refused")
    assert len(transfer.pending_events) == 1
    transfer.end(TransferState.COMPENSATED, "refund retried by an operator")
    with pytest.raises(InvalidStateTransition):
        transfer.end(TransferState.COMPLETED)


def test_transfer_money_refuses_the_same_account_on_both_sides_naming_the_field() -> None:
    with pytest.raises(InvalidCommand) as raised:
        parse_command("TransferMoney", {**REQUEST, "to_account_id": "alice"})
    assert raised.value.code == "schema_validation_failed"
    assert "to_account_id" in raised.value.message


def test_record_transfer_outcome_cannot_come_from_outside() -> None:
    body = {"transfer_id": "t-1", "state": "completed"}
    with pytest.raises(InvalidCommand) as raised:
        parse_command("RecordTransferOutcome", body)
    assert raised.value.code == "unknown_command"
    assert isinstance(
        parse_command("RecordTransferOutcome", body, internal=True), RecordTransferOutcome
    )


async def test_a_transfer_request_is_recorded_once_and_a_conflicting_one_is_rejected() -> None:
    factory = FakeUnitOfWorkFactory()
    bus = MessageBus(factory, COMMAND_HANDLERS)
    command = TransferMoney.model_validate(REQUEST)
    first = await bus.handle(command, MessageContext("m1", "TransferMoney"))
    again = await bus.handle(command, MessageContext("m2", "TransferMoney"))
    other = TransferMoney.model_validate({**REQUEST, "amount": "99.00"})
    conflicting = await bus.handle(other, MessageContext("m3", "TransferMoney"))

    assert (first.status, again.status) == (Status.ACCEPTED, Status.ACCEPTED)
    assert conflicting.status is Status.REJECTED
    assert conflicting.error is not None
    assert conflicting.error.code == TransferConflict.code
    assert [e.name() for e, _ in factory.store.outbox] == ["TransferRequested"]


async def test_recording_an_outcome_of_an_unknown_transfer_is_rejected() -> None:
    bus = MessageBus(FakeUnitOfWorkFactory(), COMMAND_HANDLERS)
    command = RecordTransferOutcome(transfer_id="nope", state="completed")
    outcome = await bus.handle(command, MessageContext("m1", "RecordTransferOutcome"))
    assert outcome.status is Status.REJECTED
