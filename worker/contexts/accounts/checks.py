"""Account rules: no negative balance, and each balance is what its event record adds up to."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from worker.ops.check.facts import Violation, money_text

DEPOSITED = "accounts.MoneyDeposited"
WITHDRAWN = "accounts.MoneyWithdrawn"


@dataclass(frozen=True)
class AccountFacts:
    account_id: str
    currency: str
    balance: Decimal
    version: int


@dataclass(frozen=True)
class EventFacts:
    """One event of an account's record (an outbox row); ``amount`` only for money events."""

    account_id: str
    version: int
    event_type: str
    amount: Decimal | None = None
    #: The message id of the command that caused it.
    causation_id: str | None = None

    @property
    def name(self) -> str:
        """The event's name without the aggregate type (``MoneyDeposited``)."""
        return self.event_type.removeprefix("accounts.")

    @property
    def signed_amount(self) -> Decimal:
        """What the event did to the balance."""
        if self.amount is None:
            return Decimal(0)
        if self.event_type == WITHDRAWN:
            return -self.amount
        return self.amount if self.event_type == DEPOSITED else Decimal(0)


@dataclass
class AccountsVerdict:
    violations: list[Violation] = field(default_factory=list)
    #: Accounts whose whole event record is there: their balance was recomputed.
    verified: set[str] = field(default_factory=set)
    #: Accounts whose oldest events were swept by retention: not recomputable.
    not_verifiable: set[str] = field(default_factory=set)


def history_problem(account: AccountFacts, versions: list[int]) -> str | None:
    """What is wrong with an account's event versions, beyond a swept beginning."""
    present = set(versions)
    if len(present) != len(versions):
        twice = sorted(v for v, n in Counter(versions).items() if n > 1)
        return f"versions {', '.join(map(str, twice))} recorded more than once"
    beyond = sorted(v for v in present if not 1 <= v <= account.version)
    if beyond:
        return f"events at versions {beyond} but the account is at version {account.version}"
    # Retention deletes sent events oldest first, and the relay sends an account's
    # events in order: only a beginning of the record can be missing.
    missing = set(range(1, account.version + 1)) - present
    gaps = sorted(v for v in missing if present and v > min(present))
    if gaps:
        return f"the event record misses versions {gaps[:10]} between kept ones (not a sweep)"
    return None


def _mismatch(account: AccountFacts, expected: Decimal) -> Violation:
    return Violation(
        "balance_mismatch",
        account.account_id,
        f"balance {money_text(account.balance, account.currency)}, but its deposits "
        f"minus withdrawals make {money_text(expected, account.currency)}",
    )


def check_accounts(
    accounts: Iterable[AccountFacts], events: Iterable[EventFacts]
) -> AccountsVerdict:
    """No negative balance; each balance equals its deposits minus withdrawals, if verifiable."""
    by_account: defaultdict[str, list[EventFacts]] = defaultdict(list)
    for event in events:
        by_account[event.account_id].append(event)
    verdict = AccountsVerdict()
    for account in accounts:
        record = by_account.pop(account.account_id, [])
        if account.balance < 0:
            balance = money_text(account.balance, account.currency)
            verdict.violations.append(Violation("negative_balance", account.account_id, balance))
        problem = history_problem(account, [e.version for e in record])
        if problem is not None:
            verdict.violations.append(Violation("event_record", account.account_id, problem))
        elif len(record) < account.version:
            verdict.not_verifiable.add(account.account_id)
        else:
            verdict.verified.add(account.account_id)
            expected = sum((e.signed_amount for e in record), Decimal(0))
            if expected != account.balance:
                verdict.violations.append(_mismatch(account, expected))
    for account_id in sorted(by_account):
        verdict.violations.append(
            Violation("event_record", account_id, "events recorded for an account that is gone")
        )
    return verdict
