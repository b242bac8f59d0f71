"""The refund decides from the inbox, and settles what could still apply late."""

from __future__ import annotations

from decimal import Decimal

from tests.workflows.fakes import FakeDispatcher
from workflows.transfers.activities import TransferActivities
from workflows.transfers.shared import MoneyStep, RefundStep

SAGA = "transfer-t1"


def refund_step(withdrawals: list[str], deposits: list[str], attempt: int = 1) -> RefundStep:
    return RefundStep(
        account_id="alice",
        amount="10.00",
        currency="EUR",
        message_id=f"{SAGA}/refund/{attempt}",
        withdrawal_message_ids=withdrawals,
        deposit_message_ids=deposits,
    )


def money(account: str, key: str) -> MoneyStep:
    return MoneyStep(account_id=account, amount="10.00", currency="EUR", message_id=key)


async def test_a_deposit_still_in_flight_cannot_apply_after_the_refund() -> None:
    ledger = FakeDispatcher.with_accounts(alice="100.00", bob="0.00")
    activities = TransferActivities(ledger)
    await activities.withdraw(money("alice", f"{SAGA}/withdraw/1"))

    result = await activities.refund(refund_step([f"{SAGA}/withdraw/1"], [f"{SAGA}/deposit/1"]))
    late = await ledger.dispatch(
        "Deposit",
        {"account_id": "bob", "amount": "10.00", "currency": "EUR"},
        f"{SAGA}/deposit/1",
        None,
    )

    assert result == "refunded"
    assert late.status == "rejected"
    assert late.error_code == "superseded"
    assert (ledger.balance("alice"), ledger.balance("bob")) == (Decimal("100.00"), Decimal(0))


async def test_a_withdrawal_that_never_applied_is_settled_and_nothing_is_refunded() -> None:
    ledger = FakeDispatcher.with_accounts(alice="100.00", bob="0.00")
    activities = TransferActivities(ledger)

    result = await activities.refund(refund_step([f"{SAGA}/withdraw/1"], []))
    late = await ledger.dispatch(
        "Withdraw",
        {"account_id": "alice", "amount": "10.00", "currency": "EUR"},
        f"{SAGA}/withdraw/1",
        None,
    )

    assert result == "nothing_withdrawn"
    assert late.status == "rejected"
    assert ledger.balance("alice") == Decimal("100.00")


async def test_a_refund_made_by_an_earlier_run_is_not_made_again() -> None:
    ledger = FakeDispatcher.with_accounts(alice="100.00", bob="0.00")
    activities = TransferActivities(ledger)
    await activities.withdraw(money("alice", f"{SAGA}/withdraw/1"))
    await activities.refund(refund_step([f"{SAGA}/withdraw/1"], [], attempt=2))

    # A restarted run knows only attempt 1 of each step.
    again = await activities.refund(refund_step([f"{SAGA}/withdraw/1"], [], attempt=1))

    assert again == "refunded"
    assert ledger.balance("alice") == Decimal("100.00")
    assert len(ledger.commands("Deposit")) == 1
