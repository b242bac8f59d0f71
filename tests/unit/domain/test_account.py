"""The Account aggregate: every rule, and the invariants under random use."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.accounts.account import (
    OWNER_MAX_LENGTH,
    Account,
    AccountClosed,
    AccountFrozen,
    AccountOpened,
    AccountStatus,
    AccountUnfrozen,
    MoneyDeposited,
    MoneyWithdrawn,
)
from domain.accounts.errors import (
    AccountIsClosed,
    AccountIsFrozen,
    BalanceLimitExceeded,
    InsufficientFunds,
    NonZeroBalance,
)
from domain.shared.errors import (
    BusinessRuleViolation,
    CurrencyMismatch,
    InvalidStateTransition,
    InvalidValue,
)
from domain.shared.money import Money


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def open_account(balance: str = "0", currency: str = "EUR") -> Account:
    """An account opened and committed (events collected, version 1)."""
    account = Account.open("acc-1", "Ada Lovelace", currency)
    if Decimal(balance):
        account.deposit(Money.of(balance, currency))
    account.collect_events()
    return account


def snapshot(account: Account) -> tuple[object, ...]:
    return (
        account.id,
        account.owner,
        account.balance,
        account.status,
        account.version,
        list(account.pending_events),
    )


def assert_rejected_without_effect(
    account: Account, operation: Callable[[], object], error: type[Exception]
) -> None:
    before = snapshot(account)
    with pytest.raises(error):
        operation()
    assert snapshot(account) == before


# --- opening -----------------------------------------------------------------


def test_opening_an_account_records_account_opened_with_version_one() -> None:
    account = Account.open("acc-1", "Ada Lovelace", "EUR")

    [event] = account.pending_events
    assert isinstance(event, AccountOpened)
    assert event.aggregate_id == "acc-1"
    assert event.aggregate_version == 1
    assert event.owner == "Ada Lovelace"
    assert event.currency == "EUR"
    assert event.aggregate_type == "accounts"
    assert event.name() == "AccountOpened"


def test_a_new_account_is_open_empty_and_in_its_currency() -> None:
    account = Account.open("acc-1", "Ada Lovelace", "JPY")

    assert account.status is AccountStatus.OPEN
    assert account.balance == Money.zero("JPY")
    assert account.currency.code == "JPY"
    assert account.version == 0
    assert account.next_version == 2


def test_the_opened_event_payload_leaves_out_the_envelope() -> None:
    [event] = Account.open("acc-1", "Ada Lovelace", "EUR").pending_events

    payload = event.payload()

    assert not {"event_id", "aggregate_version", "occurred_at"} & payload.keys()
    assert payload["owner"] == "Ada Lovelace"
    assert payload["currency"] == "EUR"
    assert "acc-1" in payload.values()


def test_opening_an_account_in_an_unknown_currency_is_invalid() -> None:
    with pytest.raises(InvalidValue):
        Account.open("acc-1", "Ada Lovelace", "XXX")


@pytest.mark.parametrize(
    "account_id",
    ["", "-starts-with-dash", "_x", ".x", "has space", "semi;colon", "a" * 65, "acc-1\n", "ü"],
)
def test_an_invalid_account_id_is_refused(account_id: str) -> None:
    with pytest.raises(InvalidValue):
        Account.open(account_id, "Ada Lovelace", "EUR")


@pytest.mark.parametrize("account_id", ["a", "A1", "acc-1", "acc_1.x-y", "9" * 64])
def test_a_valid_account_id_is_accepted(account_id: str) -> None:
    assert Account.open(account_id, "Ada Lovelace", "EUR").id == account_id


@pytest.mark.parametrize("owner", ["", " ", "\t\n", "x" * (OWNER_MAX_LENGTH + 1)])
def test_an_invalid_owner_is_refused(owner: str) -> None:
    with pytest.raises(InvalidValue):
        Account.open("acc-1", owner, "EUR")


@pytest.mark.parametrize("owner", ["A", "x" * OWNER_MAX_LENGTH, " Ada "])
def test_a_valid_owner_is_accepted(owner: str) -> None:
    assert Account.open("acc-1", owner, "EUR").owner == owner


def test_the_constructor_validates_id_and_owner_too() -> None:
    with pytest.raises(InvalidValue):
        Account("bad id", "Ada", Money.zero("EUR"))
    with pytest.raises(InvalidValue):
        Account("acc-1", "", Money.zero("EUR"))


# --- deposits and withdrawals ------------------------------------------------


def test_a_deposit_raises_the_balance_and_records_money_deposited() -> None:
    account = open_account()

    account.deposit(eur("10.5"))

    assert account.balance == eur("10.50")
    [event] = account.pending_events
    assert isinstance(event, MoneyDeposited)
    assert event.aggregate_id == "acc-1"
    assert event.aggregate_version == 2
    assert event.amount == "10.50"
    assert event.currency == "EUR"
    assert event.balance == "10.50"


def test_a_withdrawal_lowers_the_balance_and_records_money_withdrawn() -> None:
    account = open_account("100")

    account.withdraw(eur("30.25"))

    assert account.balance == eur("69.75")
    [event] = account.pending_events
    assert isinstance(event, MoneyWithdrawn)
    assert event.aggregate_version == 3
    assert event.amount == "30.25"
    assert event.currency == "EUR"
    assert event.balance == "69.75"


def test_successive_changes_record_consecutive_versions_and_running_balances() -> None:
    account = Account.open("acc-1", "Ada", "EUR")

    account.deposit(eur("10"))
    account.deposit(eur("5"))
    account.withdraw(eur("12"))

    events = account.collect_events()
    assert [e.aggregate_version for e in events] == [1, 2, 3, 4]
    assert [type(e) for e in events] == [
        AccountOpened,
        MoneyDeposited,
        MoneyDeposited,
        MoneyWithdrawn,
    ]
    assert [getattr(e, "balance", None) for e in events] == [None, "10.00", "15.00", "3.00"]


def test_versions_continue_from_the_loaded_version() -> None:
    account = Account("acc-1", "Ada", eur("50"), version=7)

    account.deposit(eur("1"))
    account.withdraw(eur("2"))

    assert [e.aggregate_version for e in account.pending_events] == [8, 9]


def test_withdrawing_the_whole_balance_leaves_exactly_zero() -> None:
    account = open_account("42.42")

    account.withdraw(eur("42.42"))

    assert account.balance.is_zero
    assert account.pending_events[-1].balance == "0.00"  # type: ignore[attr-defined]


@pytest.mark.parametrize("amount", ["0", "-1", "-0.01", "0.00"])
@pytest.mark.parametrize("operation", ["deposit", "withdraw"])
def test_amounts_must_be_positive(operation: str, amount: str) -> None:
    account = open_account("100")

    assert_rejected_without_effect(
        account, lambda: getattr(account, operation)(eur(amount)), InvalidValue
    )


@pytest.mark.parametrize("operation", ["deposit", "withdraw"])
def test_an_amount_in_another_currency_is_a_currency_mismatch(operation: str) -> None:
    account = open_account("100")

    assert_rejected_without_effect(
        account, lambda: getattr(account, operation)(Money.of("1", "USD")), CurrencyMismatch
    )


def test_withdrawing_more_than_the_balance_is_insufficient_funds() -> None:
    account = open_account("10")

    assert_rejected_without_effect(
        account, lambda: account.withdraw(eur("10.01")), InsufficientFunds
    )
    assert account.balance == eur("10")


def test_withdrawing_from_an_empty_account_is_insufficient_funds() -> None:
    account = open_account()

    assert_rejected_without_effect(
        account, lambda: account.withdraw(eur("0.01")), InsufficientFunds
    )


def test_a_deposit_that_would_exceed_the_maximum_amount_is_refused_without_effect() -> None:
    account = open_account("999999999999999")

    assert_rejected_without_effect(account, lambda: account.deposit(eur("1")), BalanceLimitExceeded)


def test_rule_violations_are_business_rule_violations_with_codes() -> None:
    account = open_account()

    with pytest.raises(BusinessRuleViolation) as excinfo:
        account.withdraw(eur("1"))

    assert excinfo.value.code == "insufficient_funds"


# --- freezing ----------------------------------------------------------------


def test_freezing_records_account_frozen() -> None:
    account = open_account()

    account.freeze()

    assert account.status is AccountStatus.FROZEN
    [event] = account.pending_events
    assert isinstance(event, AccountFrozen)
    assert event.aggregate_version == 2


def test_a_frozen_account_rejects_withdrawals_but_accepts_deposits() -> None:
    account = open_account("100")
    account.freeze()

    assert_rejected_without_effect(account, lambda: account.withdraw(eur("1")), AccountIsFrozen)

    account.deposit(eur("5"))
    assert account.balance == eur("105")
    assert isinstance(account.pending_events[-1], MoneyDeposited)
    assert account.pending_events[-1].aggregate_version == account.version + 2


def test_unfreezing_reopens_the_account_and_records_account_unfrozen() -> None:
    account = open_account("100")
    account.freeze()

    account.unfreeze()

    assert account.status is AccountStatus.OPEN
    assert isinstance(account.pending_events[-1], AccountUnfrozen)
    v = account.version
    assert [e.aggregate_version for e in account.pending_events] == [v + 1, v + 2]
    account.withdraw(eur("1"))
    assert account.balance == eur("99")


def test_freezing_a_frozen_account_is_an_invalid_state_transition() -> None:
    account = open_account()
    account.freeze()

    assert_rejected_without_effect(account, account.freeze, InvalidStateTransition)


def test_unfreezing_an_account_that_is_not_frozen_is_an_invalid_state_transition() -> None:
    account = open_account()

    assert_rejected_without_effect(account, account.unfreeze, InvalidStateTransition)


# --- closing -----------------------------------------------------------------


def test_closing_an_empty_account_records_account_closed() -> None:
    account = open_account()

    account.close()

    assert account.status is AccountStatus.CLOSED
    [event] = account.pending_events
    assert isinstance(event, AccountClosed)
    assert event.aggregate_version == 2


def test_an_account_can_be_closed_once_emptied() -> None:
    account = open_account("10")
    account.withdraw(eur("10"))

    account.close()

    assert account.status is AccountStatus.CLOSED


def test_an_account_with_money_left_cannot_be_closed() -> None:
    account = open_account("0.01")

    assert_rejected_without_effect(account, account.close, NonZeroBalance)


def test_a_frozen_account_with_money_left_cannot_be_closed() -> None:
    account = open_account("5")
    account.freeze()

    assert_rejected_without_effect(account, account.close, NonZeroBalance)


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda a: a.deposit(eur("1")), id="deposit"),
        pytest.param(lambda a: a.withdraw(eur("1")), id="withdraw"),
        pytest.param(lambda a: a.freeze(), id="freeze"),
        pytest.param(lambda a: a.unfreeze(), id="unfreeze"),
        pytest.param(lambda a: a.close(), id="close"),
    ],
)
def test_a_closed_account_rejects_everything(operation: Callable[[Account], object]) -> None:
    account = open_account()
    account.close()

    assert_rejected_without_effect(account, lambda: operation(account), AccountIsClosed)


# --- events and identity -----------------------------------------------------


def test_collect_events_hands_over_the_pending_events_and_empties_the_list() -> None:
    account = Account.open("acc-1", "Ada", "EUR")
    account.deposit(eur("1"))

    events = account.collect_events()

    assert [type(e) for e in events] == [AccountOpened, MoneyDeposited]
    assert account.pending_events == []
    assert account.collect_events() == []


def test_each_event_gets_its_own_id_and_a_timestamp() -> None:
    account = Account.open("acc-1", "Ada", "EUR")
    account.deposit(eur("1"))

    opened, deposited = account.pending_events

    assert opened.event_id != deposited.event_id
    assert opened.occurred_at.tzinfo is not None
    assert opened.occurred_at <= deposited.occurred_at


def test_accounts_are_equal_by_id_not_by_state() -> None:
    a = Account("acc-1", "Ada", eur("10"))
    b = Account("acc-1", "Someone Else", eur("99"), status=AccountStatus.FROZEN, version=5)
    c = Account("acc-2", "Ada", eur("10"))

    assert a == b
    assert hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2


def test_an_account_is_not_equal_to_something_else_with_the_same_id() -> None:
    class NotAnAccount:
        id = "acc-1"

    assert Account("acc-1", "Ada", eur("0")) != NotAnAccount()
    assert Account("acc-1", "Ada", eur("0")) != "acc-1"


def test_an_account_stays_equal_to_itself_after_changing() -> None:
    account = open_account()
    before = copy.copy(account)

    account.deposit(eur("3"))

    assert account == before


# --- invariants under random sequences ---------------------------------------

amounts = st.decimals(
    min_value=Decimal("-5.00"), max_value=Decimal("100.00"), places=2, allow_nan=False
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("deposit"), amounts),
        st.tuples(st.just("withdraw"), amounts),
        st.tuples(st.just("freeze"), st.none()),
        st.tuples(st.just("unfreeze"), st.none()),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_any_sequence_of_operations_keeps_the_balance_consistent_and_versions_consecutive(
    ops: list[tuple[str, Decimal | None]],
) -> None:
    account = Account.open("acc-1", "Ada", "EUR")
    expected = Decimal(0)

    for name, amount in ops:
        before = snapshot(account)
        try:
            if amount is None:
                getattr(account, name)()
            else:
                getattr(account, name)(eur(str(amount)))
        except (BusinessRuleViolation, InvalidValue):
            assert snapshot(account) == before, f"rejected {name} changed the account"
            continue
        assert len(account.pending_events) == len(before[-1]) + 1
        if name == "deposit":
            assert amount is not None
            expected += amount
        elif name == "withdraw":
            assert amount is not None
            expected -= amount

        assert not account.balance.is_negative
        assert account.balance.amount == expected

    events = account.collect_events()
    assert [e.aggregate_version for e in events] == list(range(1, len(events) + 1))
    movements = [e for e in events if isinstance(e, MoneyDeposited | MoneyWithdrawn)]
    if movements:
        assert Decimal(movements[-1].balance) == expected
    assert account.balance.amount == expected
    assert not account.balance.is_negative


def test_a_deposit_that_would_pass_the_largest_balance_is_refused_as_a_business_rule() -> None:
    account = open_account("999999999999999.00")
    with pytest.raises(BalanceLimitExceeded):
        account.deposit(eur("999999999999999.00"))
    assert account.balance == eur("999999999999999.00")
