"""Reconciliation over hand-made rows: what is a violation, what cannot be verified, and
how the engine runs every context's checks beside the money check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import cast

import pytest
from tortoise.backends.base.client import BaseDBAsyncClient

from tests.wiring import CONTEXTS
from worker.context import BoundedContext, Contexts
from worker.contexts.accounts.published import (
    DEPOSITED,
    WITHDRAWN,
    AccountFacts,
    AccountLedger,
    EventFacts,
)
from worker.contexts.transfers.checks_facts import TransferFacts
from worker.contexts.transfers.checks_money import MoneyCheck, MoneyFacts
from worker.contexts.transfers.checks_sagas import dead_sagas, saga_problem
from worker.contexts.transfers.checks_totals import MoneyReport, reconcile
from worker.ops.check import (
    Check,
    CheckConflict,
    CheckResult,
    Judged,
    Report,
    SagasUnreachable,
    Snapshot,
    Violation,
    run_checks,
)
from worker.ops.check.facts import amount_text

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

    def facts(self) -> AccountLedger:
        return AccountLedger(list(self.accounts.values()), self.events, [])

    def check(self, dead_sagas: dict[str, str] | None = None) -> MoneyReport:
        return reconcile(self.facts(), self.transfers, dead_sagas)


def funded() -> Ledger:
    return Ledger().open("alice").move("alice", "100.00").open("bob").move("bob", "20.00")


def kinds(report: MoneyReport | Report) -> list[tuple[str, str]]:
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
    report = Report.merge([funded().check(dead_sagas={}).result()])

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
    assert report.figures()["totals"]["JPY"]["balances"] == "1500"
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


def test_a_conflicted_transfer_is_a_saga_conflict_and_not_in_flight() -> None:
    held = "workflow transfer-t-1 runs for another request (run 7f3a, from alice to carol)"
    ledger = funded()
    ledger.transfers.append(replace(transfer_in("conflicted"), reason=held))

    report = ledger.check(dead_sagas={})

    assert kinds(report) == [("saga_conflict", "t-1")]
    assert report.violations[0].detail == (
        f"its saga id is held by another request's run, no money moved: {held}"
    )
    assert report.in_flight_text() == "0"
    assert report.totals["EUR"]["in_flight"] == D(0)


def test_a_conflicted_transfer_whose_steps_moved_money_breaks_conservation_too() -> None:
    ledger = funded().transfer("t-1", "alice", "bob", "10.00", "conflicted", "withdraw")

    # Nothing counts the withdrawal as in flight: the total misses it too.
    assert kinds(ledger.check()) == [
        ("saga_conflict", "t-1"),
        ("money_not_conserved", "t-1"),
        ("money_total", "EUR"),
    ]


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


# --- asking the sagas -----------------------------------------------------------------


class FakeSagas:
    """The saga-liveness port: a status per workflow id, and the ids it was asked about."""

    def __init__(self, executions: dict[str, str] | None = None, reachable: bool = True) -> None:
        self.executions = executions or {}
        self.reachable = reachable
        self.asked: list[str] = []

    async def execution(self, workflow_id: str) -> str | None:
        self.asked.append(workflow_id)
        if not self.reachable:
            raise SagasUnreachable("connection refused")
        return self.executions.get(workflow_id)


async def never_ended(transfer_id: str) -> bool:
    return False


def in_states(*states: str) -> list[TransferFacts]:
    return [replace(transfer_in(state), transfer_id=f"t-{state}") for state in states]


async def test_only_unfinished_transfers_are_asked_about_by_their_workflow_id() -> None:
    sagas = FakeSagas({"transfer-t-needs_operator": "terminated"})
    transfers = in_states("requested", "needs_operator", "completed", "conflicted")

    dead = await dead_sagas(sagas, transfers, never_ended)

    assert sorted(sagas.asked) == ["transfer-t-needs_operator", "transfer-t-requested"]
    assert dead == {
        "t-needs_operator": "needs_operator, but its saga's workflow is terminated "
        "(`sagas retry t-needs_operator --reason ...` restarts it)",
        "t-requested": "requested, but it has no saga (no workflow transfer-t-requested)",
    }


async def test_a_transfer_that_ended_since_the_snapshot_has_no_dead_saga() -> None:
    async def ended(transfer_id: str) -> bool:
        return True

    assert await dead_sagas(FakeSagas(), in_states("requested"), ended) == {}


# --- the engine -----------------------------------------------------------------------


class Timeline:
    """A fake snapshot that notes when it opens and closes, beside what the checks do."""

    def __init__(self) -> None:
        self.db = cast(BaseDBAsyncClient, object())
        self.steps: list[str] = []

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[BaseDBAsyncClient]:
        self.steps.append("open")
        yield self.db
        self.steps.append("close")


@dataclass(frozen=True)
class LedgerBooksCheck:
    """Another context's check: one violation, and figures under its own key."""

    timeline: Timeline
    name: str = "books"
    figures: dict[str, object] = field(default_factory=lambda: {"books": {"entries": 3}})

    async def read(self, snapshot: Snapshot) -> Judged:
        assert snapshot.db is self.timeline.db  # the one snapshot every check reads
        self.timeline.steps.append("books read")
        found = [Violation("book_unbalanced", "b-1", "debits 3, credits 2")]
        return Judged(CheckResult(found, self.figures, "books: 3 entries checked"))


def money_check(ledger: Ledger, timeline: Timeline) -> MoneyCheck:
    async def read(snapshot: Snapshot) -> MoneyFacts:
        timeline.steps.append("money read")
        return MoneyFacts(ledger.facts(), ledger.transfers)

    return MoneyCheck(read_facts=read, ended_since=never_ended)


def test_every_context_declares_its_checks_and_the_transfers_context_the_money_one() -> None:
    other = BoundedContext(name="books", handlers={}, checks=(LedgerBooksCheck(Timeline()),))

    assert [check.name for check in Contexts([*CONTEXTS.all, other]).checks] == [
        "money",
        "catalog",
        "orders",
        "order_sagas",
        "books",
    ]


async def test_the_engine_runs_another_contexts_check_beside_the_money_check() -> None:
    timeline = Timeline()
    ledger = funded().transfer("t-1", "alice", "bob", "4.50", "requested", "withdraw")
    sagas = FakeSagas({"transfer-t-1": "running"})
    checks: list[Check] = [money_check(ledger, timeline), LedgerBooksCheck(timeline)]

    report = await run_checks(checks, timeline.snapshot, sagas)

    assert timeline.steps == ["open", "money read", "books read", "close"]
    assert sagas.asked == ["transfer-t-1"]
    shown = report.to_json()
    assert kinds(report) == [("book_unbalanced", "b-1")]
    assert (shown["ok"], shown["books"], shown["sagas_checked"]) == (False, {"entries": 3}, True)
    assert (shown["accounts_checked"], shown["in_flight"]) == (2, "4.50 EUR")
    assert report.summary() == (
        "accounts: 2 checked, 0 not verifiable (history swept); transfers: 1 checked, "
        "0 not verifiable; in flight: 4.50 EUR; books: 3 entries checked; violations: 1"
    )


async def test_sagas_that_cannot_be_asked_count_as_not_checked() -> None:
    timeline = Timeline()
    ledger = funded().transfer("t-1", "alice", "bob", "4.50", "requested", "withdraw")
    checks = [money_check(ledger, timeline)]

    report = await run_checks(checks, timeline.snapshot, FakeSagas(reachable=False))

    assert report.ok
    assert report.to_json()["sagas_checked"] is False
    assert "(sagas not checked)" in report.summary()


async def test_two_checks_claiming_one_figure_or_one_name_are_refused() -> None:
    timeline = Timeline()
    same_key = replace(LedgerBooksCheck(timeline), name="books-again")

    with pytest.raises(CheckConflict, match="two checks report the figure books"):
        await run_checks([LedgerBooksCheck(timeline), same_key], timeline.snapshot, None)
    with pytest.raises(CheckConflict, match="two checks are named 'books'"):
        await run_checks([LedgerBooksCheck(timeline)] * 2, timeline.snapshot, None)
    ok_figure = replace(LedgerBooksCheck(timeline), figures={"ok": True})
    with pytest.raises(CheckConflict, match="figure ok"):
        await run_checks([ok_figure], timeline.snapshot, None)
