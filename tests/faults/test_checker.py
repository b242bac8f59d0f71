"""The checker itself, on made-up snapshots: it must catch what the scenarios guard against."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.faults.checker import build_report
from tests.faults.observe import Event, Snapshot, TransferRow
from tests.faults.traffic import Ledger, Planned
from tests.faults.workloads import deposit, transfer

pytestmark = pytest.mark.faults


def sent(*messages: Planned) -> Ledger:
    ledger = Ledger()
    for message in ledger.plan(messages):
        ledger.confirmed.add(message.ref)
    return ledger


def event(kind: str, aggregate: str, cause: str | None, amount: str | None = None) -> Event:
    value = None if amount is None else Decimal(amount)
    return Event(f"e-{cause}-{kind}", kind, aggregate, 1, cause, value, sent=True)


def accepted(*messages: Planned) -> dict[str, tuple[str, str | None]]:
    return {m.message_id or "": ("accepted", None) for m in messages}


def requested(message: Planned) -> Event:
    return event("transfers.TransferRequested", message.body_json["transfer_id"], message.ref)


def row(message: Planned, state: str = "completed", amount: str = "2.50") -> TransferRow:
    fields = message.body_json
    return TransferRow(state, Decimal(amount), fields["from_account_id"], fields["to_account_id"])


def test_an_accepted_transfer_that_was_never_created_is_a_violation() -> None:
    money = transfer("t-1", "a", "b", "2.50")
    report = build_report(sent(money), Snapshot(inbox=accepted(money)), {})
    assert any("0 requested" in v for v in report.violations), report.violations
    assert any("does not exist" in v for v in report.violations), report.violations


def test_a_transfer_created_with_other_amounts_is_a_violation() -> None:
    money = transfer("t-1", "a", "b", "2.50")
    snapshot = Snapshot(
        inbox=accepted(money),
        events=[requested(money)],
        transfers={"t-1": row(money, amount="3.00")},
    )
    report = build_report(sent(money), snapshot, {})
    assert any("planned" in v for v in report.violations), report.violations


def test_a_repeated_transfer_id_may_leave_the_repeat_without_an_event() -> None:
    first, repeat = (transfer("t-1", "a", "b", "2.50", "rejected") for _ in range(2))
    snapshot = Snapshot(
        inbox=accepted(first, repeat),
        events=[requested(first)],
        transfers={"t-1": row(first, "rejected")},
    )
    report = build_report(sent(first, repeat), snapshot, {})
    assert report.ok, report.summary()


@pytest.mark.parametrize("state", ["needs_operator", "compensated"])
def test_a_transfer_resting_in_another_state_than_planned_is_unexpected(state: str) -> None:
    money = transfer("t-1", "a", "b", "2.50")
    snapshot = Snapshot(
        inbox=accepted(money), events=[requested(money)], transfers={"t-1": row(money, state)}
    )
    report = build_report(sent(money), snapshot, {})
    assert report.settled, "nothing more will happen by itself"
    assert report.unexpected == [f"transfer t-1 ended {state}, planned completed"]
    assert not report.ok


def test_a_deposit_on_another_account_is_a_violation() -> None:
    money = deposit("acc-1", "5.00")
    snapshot = Snapshot(
        inbox=accepted(money),
        events=[event("accounts.MoneyDeposited", "acc-2", money.ref, "5.00")],
    )
    report = build_report(sent(money), snapshot, {})
    assert any("hit acc-2, not acc-1" in v for v in report.violations), report.violations
