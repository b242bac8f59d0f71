"""The money check's rules together: accounts, transfers, and where the money stands by currency."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from worker.contexts.accounts.published import AccountFacts, AccountLedger, EventFacts
from worker.contexts.transfers.checks import TransfersVerdict, check_transfers
from worker.contexts.transfers.checks_facts import TransferFacts, saga_step
from worker.ops.check.engine import CheckResult
from worker.ops.check.facts import Violation, amount_text, money_text

TOTALS = ("balances", "outside_net", "in_flight", "settled_by_hand")


@dataclass
class MoneyReport:
    """What the money check found and counted (its keys of ``check --json`` are stable)."""

    violations: list[Violation] = field(default_factory=list)
    accounts_checked: int = 0
    accounts_not_verifiable: int = 0
    transfers_checked: int = 0
    transfers_not_verifiable: int = 0
    transfers_waiting_to_start: int = 0
    sagas_checked: bool = False
    #: By currency: withdrawn by unfinished transfers and not yet deposited or refunded.
    in_flight: dict[str, Decimal] = field(default_factory=dict)
    #: By currency whose accounts are all verifiable: where the money stands.
    totals: dict[str, dict[str, Decimal]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    def in_flight_text(self) -> str:
        """``4.50 EUR`` (currencies joined by ", "), or ``0`` when nothing is in flight."""
        parts = [money_text(a, c) for c, a in sorted(self.in_flight.items()) if a]
        return ", ".join(parts) or "0"

    def figures(self) -> dict[str, Any]:
        return {
            "accounts_checked": self.accounts_checked,
            "accounts_not_verifiable": self.accounts_not_verifiable,
            "transfers_checked": self.transfers_checked,
            "transfers_not_verifiable": self.transfers_not_verifiable,
            "transfers_waiting_to_start": self.transfers_waiting_to_start,
            "sagas_checked": self.sagas_checked,
            "in_flight": self.in_flight_text(),
            "totals": {
                currency: {name: amount_text(value, currency) for name, value in sums.items()}
                for currency, sums in sorted(self.totals.items())
            },
        }

    def summary(self) -> str:
        sagas = "" if self.sagas_checked else " (sagas not checked)"
        return (
            f"accounts: {self.accounts_checked} checked, {self.accounts_not_verifiable} not "
            f"verifiable (history swept); transfers: {self.transfers_checked} checked{sagas}, "
            f"{self.transfers_not_verifiable} not verifiable; in flight: {self.in_flight_text()}"
        )

    def result(self) -> CheckResult:
        return CheckResult(self.violations, self.figures(), self.summary())


def _total_problem(currency: str, total: dict[str, Decimal]) -> Violation | None:
    expected = total["outside_net"] - total["in_flight"] + total["settled_by_hand"]
    if total["balances"] == expected:
        return None
    return Violation(
        "money_total",
        currency,
        f"the balances add up to {money_text(total['balances'], currency)}, but outside "
        f"deposits minus withdrawals, less what is in flight, plus what was settled "
        f"by hand make {money_text(expected, currency)}",
    )


def money_totals(
    accounts: list[AccountFacts],
    events: list[EventFacts],
    verified: set[str],
    transfers: TransfersVerdict,
) -> tuple[dict[str, dict[str, Decimal]], list[Violation]]:
    """By currency: balances = outside deposits - withdrawals - in flight + settled by hand.

    Only currencies whose every account is verifiable: elsewhere part of the outside
    movements may have been swept.
    """
    unverified = {a.currency for a in accounts if a.account_id not in verified}
    currency_of = {a.account_id: a.currency for a in accounts}
    sums: defaultdict[str, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(TOTALS[:2], Decimal(0))
    )
    for account in accounts:
        sums[account.currency]["balances"] += account.balance
    for event in events:
        if saga_step(event) is None and event.account_id in currency_of:
            sums[currency_of[event.account_id]]["outside_net"] += event.signed_amount
    totals = {
        currency: {
            **sums[currency],
            "in_flight": transfers.in_flight.get(currency, Decimal(0)),
            "settled_by_hand": transfers.settled_by_hand.get(currency, Decimal(0)),
        }
        for currency in sorted(set(sums) - unverified)
    }
    problems = (_total_problem(currency, total) for currency, total in totals.items())
    return totals, [problem for problem in problems if problem is not None]


def reconcile(
    ledger: AccountLedger,
    transfers: Iterable[TransferFacts],
    dead_sagas: Mapping[str, str] | None = None,
) -> MoneyReport:
    """Every money rule over one snapshot; ``dead_sagas`` is None when sagas were not looked at."""
    transfers = list(transfers)
    on_accounts = ledger.verdict()
    on_transfers = check_transfers(transfers, ledger.events, on_accounts.verified, dead_sagas or {})
    totals, on_totals = money_totals(
        ledger.accounts, ledger.events, on_accounts.verified, on_transfers
    )
    return MoneyReport(
        violations=ledger.unreadable + on_accounts.violations + on_transfers.violations + on_totals,
        accounts_checked=len(ledger.accounts),
        accounts_not_verifiable=len(on_accounts.not_verifiable),
        transfers_checked=on_transfers.checked,
        transfers_not_verifiable=len(on_transfers.not_verifiable),
        transfers_waiting_to_start=len(on_transfers.waiting_to_start),
        sagas_checked=dead_sagas is not None,
        in_flight=dict(on_transfers.in_flight),
        totals=totals,
    )
