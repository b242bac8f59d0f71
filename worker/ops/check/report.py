"""Every rule over one snapshot of the database, and the report ``worker check`` prints."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from worker.contexts.accounts.checks import check_accounts
from worker.contexts.transfers.checks import TransfersVerdict, check_transfers
from worker.ops.check.facts import (
    AccountFacts,
    EventFacts,
    TransferFacts,
    Violation,
    amount_text,
    money_text,
)


@dataclass
class Report:
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

    def to_json(self) -> dict[str, Any]:
        """The stable shape scripts read (``worker check --json``)."""
        return {
            "ok": self.ok,
            "violations": [v.to_json() for v in self.violations],
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
            f"{self.transfers_not_verifiable} not verifiable; in flight: {self.in_flight_text()}; "
            f"violations: {len(self.violations)}"
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
        lambda: dict.fromkeys(("balances", "outside_net"), Decimal(0))
    )
    for account in accounts:
        sums[account.currency]["balances"] += account.balance
    for event in events:
        if event.saga_step is None and event.account_id in currency_of:
            sums[currency_of[event.account_id]]["outside_net"] += event.signed_amount
    totals = {
        currency: {
            **sums[currency],
            "in_flight": transfers.in_flight.get(currency, Decimal(0)),
            "settled_by_hand": transfers.settled_by_hand.get(currency, Decimal(0)),
        }
        for currency in sorted(set(sums) - unverified)
    }
    violations: list[Violation] = []
    for currency, t in totals.items():
        expected = t["outside_net"] - t["in_flight"] + t["settled_by_hand"]
        if t["balances"] != expected:
            violations.append(
                Violation(
                    "money_total",
                    currency,
                    f"the balances add up to {money_text(t['balances'], currency)}, but outside "
                    f"deposits minus withdrawals, less what is in flight, plus what was settled "
                    f"by hand make {money_text(expected, currency)}",
                )
            )
    return totals, violations


def reconcile(
    accounts: Iterable[AccountFacts],
    events: Iterable[EventFacts],
    transfers: Iterable[TransferFacts],
    dead_sagas: Mapping[str, str] | None = None,
) -> Report:
    """Check every invariant; ``dead_sagas`` is None when the sagas were not looked at."""
    accounts, events, transfers = list(accounts), list(events), list(transfers)
    on_accounts = check_accounts(accounts, events)
    on_transfers = check_transfers(transfers, events, on_accounts.verified, dead_sagas or {})
    totals, on_totals = money_totals(accounts, events, on_accounts.verified, on_transfers)
    return Report(
        violations=on_accounts.violations + on_transfers.violations + on_totals,
        accounts_checked=len(accounts),
        accounts_not_verifiable=len(on_accounts.not_verifiable),
        transfers_checked=on_transfers.checked,
        transfers_not_verifiable=len(on_transfers.not_verifiable),
        transfers_waiting_to_start=len(on_transfers.waiting_to_start),
        sagas_checked=dead_sagas is not None,
        in_flight=dict(on_transfers.in_flight),
        totals=totals,
    )
