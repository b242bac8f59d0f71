"""Reconciliation rules over hand-made rows: what is a violation, what cannot be verified."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from worker.contexts.transfers.checks import saga_problem
from worker.ops.check import AccountFacts, EventFacts, Report, TransferFacts, reconcile
from worker.ops.check.facts import DEPOSITED, WITHDRAWN, amount_text

D = Decimal


class Ledger:
    """Accounts and their event record, built the way the worker would write them."""

    def __init__(self) -> None:
        self.accounts: dict[str, AccountFacts] = {}
        self.events: list[EventFacts] = []
        self.transfers: list[TransferFacts] = []

    def open(self, account_id: str, currency: str = "EUR") -> Ledger:
        self.accounts[account_id] = AccountFacts(account_id, currency, D(0), 1)
        self.events.append(EventFacts(account_id, 1, "accounts.AccountOpened"))
        return self

    def move(self, account_id: str, amount: str, by: str | None = None) -> Ledger:
        """A deposit (positive) or a withdrawal (negative), caused by message ``by``."""
        account = self.accounts[account_id]
        change = D(amount)
        kind = DEPOSITED if change > 0 else WITHDRAWN
        version = account.version + 1
        self.events.append(EventFacts(account_id, version, kind, abs(change), by or "client-1"))
        self.accounts[account_id] = replace(
            account, balance=account.balance + change, version=version
        )
        return self

    def freeze(self, account_id: str) -> Ledger:
        account = self.accounts[account_id]
        self.accounts[account_id] = replace(account, version=account.version + 1)
        self.events.append(EventFacts(account_id, account.version + 1, "accounts.AccountFrozen"))
        return self

    def transfer(
        self, tid: str, source: str, target: str, amount: str, state: str, steps: str
    ) -> Ledger:
        """A transfer whose saga ran ``steps`` ("withdraw deposit", "withdraw refund"...)."""
        self.transfers.append(TransferFacts(tid, source, target, D(amount), "EUR", state))
        for n, step in enumerate(steps.split(), start=1):
            account, sign = {
                "withdraw": (source, "-"),
                "deposit": (target, ""),
                "refund": (source, ""),
            }[step]
            self.move(account, f"{sign}{amount}", by=f"transfer-{tid}/{step}/{n}")
        return self

    def set_balance(self, account_id: str, balance: str) -> Ledger:
        self.accounts[account_id] = replace(self.accounts[account_id], balance=D(balance))
        return self

    def drop_events(self, account_id: str, *versions: int) -> Ledger:
        self.events = [
            e for e in self.events if not (e.account_id == account_id and e.version in versions)
        ]
        return self

    def check(self, dead_sagas: dict[str, str] | None = None) -> Report:
        return reconcile(self.accounts.values(), self.events, self.transfers, dead_sagas)


def funded() -> Ledger:
    return Ledger().open("alice").move("alice", "100.00").open("bob").move("bob", "20.00")


def kinds(report: Report) -> list[tuple[str, str]]:
    return [(v.kind, v.subject) for v in report.violations]


# --- a consistent ledger --------------------------------------------------------------


def test_a_ledger_the_worker_could_have_written_has_no_violation() -> None:
    ledger = (
        funded()
        .move("alice", "-30.00")
        .freeze("bob")
        .transfer("t-done", "alice", "bob", "10.00", "completed", "withdraw deposit")
        .transfer("t-undone", "alice", "bob", "5.00", "compensated", "withdraw refund")
        .transfer("t-refused", "alice", "bob", "500.00", "rejected", "")
        .transfer("t-flying", "alice", "bob", "4.50", "requested", "withdraw")
    )

    report = ledger.check(dead_sagas={})

    assert report.ok, report.violations
    assert (report.accounts_checked, report.accounts_not_verifiable) == (2, 0)
    assert (report.transfers_checked, report.transfers_not_verifiable) == (4, 0)
    assert report.in_flight_text() == "4.50 EUR"
    assert report.totals["EUR"] == {
        "balances": D("85.50"),
        "outside_net": D("90.00"),
        "in_flight": D("4.50"),
        "settled_by_hand": D(0),
    }


def test_the_json_report_has_the_stable_shape_scripts_read() -> None:
    report = funded().check(dead_sagas={})

    assert report.to_json() == {
        "ok": True,
        "violations": [],
        "accounts_checked": 2,
        "accounts_not_verifiable": 0,
        "transfers_checked": 0,
        "transfers_not_verifiable": 0,
        "transfers_waiting_to_start": 0,
        "sagas_checked": True,
        "in_flight": "0",
        "totals": {
            "EUR": {
                "balances": "120.00",
                "outside_net": "120.00",
                "in_flight": "0.00",
                "settled_by_hand": "0.00",
            }
        },
    }
    assert "violations: 0" in report.summary()


def test_currencies_are_added_up_apart() -> None:
    ledger = funded().open("yuki", "JPY").move("yuki", "1500")

    report = ledger.check()

    assert report.ok
    assert report.to_json()["totals"]["JPY"]["balances"] == "1500"
    assert not report.sagas_checked
    assert "(sagas not checked)" in report.summary()


# --- accounts -----------------------------------------------------------------------


def test_a_negative_balance_is_a_violation() -> None:
    ledger = funded().move("bob", "-25.00")

    report = ledger.check()

    assert kinds(report) == [("negative_balance", "bob")]
    assert report.violations[0].detail == "-5.00 EUR"


def test_a_balance_its_events_do_not_add_up_to_is_a_violation_and_breaks_the_total() -> None:
    ledger = funded().set_balance("alice", "150.00")

    report = ledger.check()

    assert kinds(report) == [("balance_mismatch", "alice"), ("money_total", "EUR")]
    assert report.violations[0].line() == (
        "balance_mismatch: alice: balance 150.00 EUR, but its deposits minus withdrawals "
        "make 100.00 EUR"
    )


def test_an_account_whose_oldest_events_were_swept_is_not_verifiable_nor_a_violation() -> None:
    ledger = funded().move("alice", "-1.00").drop_events("alice", 1, 2).set_balance("alice", "7")

    report = ledger.check()

    assert report.ok
    assert (report.accounts_checked, report.accounts_not_verifiable) == (2, 1)
    assert "1 not verifiable (history swept)" in report.summary()
    assert "EUR" not in report.totals  # some of its outside movements are gone


def test_a_gap_between_kept_events_is_a_violation_not_a_sweep() -> None:
    ledger = funded().move("alice", "-1.00").drop_events("alice", 2)

    report = ledger.check()

    assert kinds(report) == [("event_record", "alice")]
    assert "misses versions [2]" in report.violations[0].detail


def test_a_version_recorded_twice_is_a_violation() -> None:
    ledger = funded()
    ledger.events.append(EventFacts("bob", 2, DEPOSITED, D("20.00"), "client-2"))

    report = ledger.check()

    assert kinds(report) == [("event_record", "bob")]
    assert "versions 2 recorded more than once" in report.violations[0].detail


def test_events_beyond_the_accounts_version_are_a_violation() -> None:
    ledger = funded()
    ledger.accounts["bob"] = replace(ledger.accounts["bob"], version=1)

    report = ledger.check()

    assert ("event_record", "bob") in kinds(report)
    assert "the account is at version 1" in report.violations[0].detail


def test_events_of_an_account_that_is_gone_are_a_violation() -> None:
    ledger = funded()
    del ledger.accounts["bob"]

    assert kinds(ledger.check()) == [("event_record", "bob")]


# --- transfers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "steps"),
    [
        ("completed", "withdraw"),
        ("completed", "withdraw deposit refund"),
        ("compensated", "withdraw"),
        ("compensated", "withdraw deposit refund"),
        ("rejected", "withdraw"),
        ("requested", "withdraw deposit deposit"),
    ],
)
def test_a_transfer_whose_steps_did_not_move_what_its_state_says_is_a_violation(
    state: str, steps: str
) -> None:
    ledger = funded().transfer("t-1", "alice", "bob", "10.00", state, steps)

    report = ledger.check()

    assert ("money_not_conserved", "t-1") in kinds(report)
    [violation] = [v for v in report.violations if v.subject == "t-1"]
    assert violation.detail.startswith(f"{state}: expected ")


def test_a_completed_transfer_that_never_deposited_says_what_moved() -> None:
    report = funded().transfer("t-1", "alice", "bob", "10.00", "completed", "withdraw").check()

    assert report.violations[0].detail == (
        "completed: expected 10.00 EUR withdrawn and deposited, but its steps moved "
        "withdraw 10.00 EUR, deposit 0.00 EUR, refund 0.00 EUR"
    )


def test_a_step_moving_money_on_another_account_is_a_violation() -> None:
    ledger = (
        funded()
        .open("carol")
        .transfer("t-1", "alice", "bob", "10.00", "completed", "withdraw deposit")
    )
    ledger.move("carol", "3.00", by="transfer-t-1/deposit/1")

    report = ledger.check()

    # The money came from nowhere: the total says so too.
    assert kinds(report) == [("money_not_conserved", "t-1"), ("money_total", "EUR")]
    assert (
        "MoneyDeposited of 3.00 EUR on carol by transfer-t-1/deposit/1"
        in report.violations[0].detail
    )


def test_saga_steps_of_a_transfer_that_does_not_exist_are_a_violation() -> None:
    ledger = funded().move("alice", "-10.00", by="transfer-ghost/withdraw/1")

    assert ("money_not_conserved", "ghost") in kinds(ledger.check())


def test_a_transfer_touching_a_swept_account_is_not_verifiable() -> None:
    ledger = funded().transfer("t-1", "alice", "bob", "10.00", "completed", "withdraw")
    ledger.drop_events("alice", 1, 2)

    report = ledger.check()

    assert report.ok
    assert report.transfers_not_verifiable == 1


def test_a_transfer_resolved_by_hand_is_counted_as_settled_by_hand() -> None:
    ledger = funded().transfer("t-1", "alice", "bob", "10.00", "resolved", "withdraw")

    report = ledger.check()

    assert report.ok
    assert report.totals["EUR"]["settled_by_hand"] == D("-10.00")
    assert report.in_flight_text() == "0"


# --- sagas --------------------------------------------------------------------------


def transfer_in(state: str, start_pending: bool = False) -> TransferFacts:
    return TransferFacts("t-1", "alice", "bob", D("1.00"), "EUR", state, start_pending)


@pytest.mark.parametrize(
    ("state", "execution", "start_pending"),
    [
        ("requested", "running", False),
        ("needs_operator", "running", False),
        ("requested", None, True),  # the relay has not started it yet
        ("completed", None, False),
        ("compensated", "terminated", False),
    ],
)
def test_a_transfer_with_a_live_saga_or_an_end_has_no_saga_problem(
    state: str, execution: str | None, start_pending: bool
) -> None:
    assert saga_problem(transfer_in(state, start_pending), execution) is None


def test_an_unfinished_transfer_whose_workflow_ended_or_is_missing_has_a_saga_problem() -> None:
    assert saga_problem(transfer_in("needs_operator"), "terminated") == (
        "needs_operator, but its saga's workflow is terminated "
        "(`sagas retry t-1 --reason ...` restarts it)"
    )
    assert saga_problem(transfer_in("requested"), None) == (
        "requested, but it has no saga (no workflow transfer-t-1)"
    )


def test_dead_sagas_are_violations_and_pending_starts_are_counted() -> None:
    ledger = funded()
    ledger.transfers.append(transfer_in("requested", start_pending=True))
    ledger.transfers.append(replace(transfer_in("needs_operator"), transfer_id="t-2"))

    report = ledger.check(dead_sagas={"t-2": "needs_operator, but ..."})

    assert kinds(report) == [("transfer_without_saga", "t-2")]
    assert report.transfers_waiting_to_start == 1


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("10.5", "EUR", "10.50"),
        ("1500", "JPY", "1500"),
        ("0.125", "EUR", "0.125"),
        ("-3", "USD", "-3.00"),
    ],
)
def test_amounts_are_written_with_the_currencys_digits(
    amount: str, currency: str, text: str
) -> None:
    assert amount_text(D(amount), currency) == text
