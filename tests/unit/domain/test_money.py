"""Money: exact decimal amounts in one known currency."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.shared.errors import BusinessRuleViolation, CurrencyMismatch, InvalidValue
from domain.shared.money import MAX_AMOUNT, MINOR_UNITS, Currency, Money

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


# --- parsing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.50", Decimal("10.50")),
        ("0", Decimal("0")),
        ("-3.25", Decimal("-3.25")),
        ("999999999999999.99", Decimal("999999999999999.99")),
    ],
)
def test_money_of_parses_decimal_strings_exactly(raw: str, expected: Decimal) -> None:
    assert Money.of(raw, "EUR").amount == expected


def test_money_of_accepts_ints() -> None:
    money = Money.of(42, "EUR")

    assert money.amount == Decimal(42)
    assert money.to_string() == "42.00"


def test_money_of_accepts_decimals() -> None:
    assert Money.of(Decimal("7.10"), "USD").amount == Decimal("7.1")


@pytest.mark.parametrize("raw", [0.1, 10.5, 1.0, float("nan"), float("inf")])
def test_money_of_refuses_floats_even_when_they_look_harmless(raw: float) -> None:
    with pytest.raises(InvalidValue):
        Money.of(raw, "EUR")


@pytest.mark.parametrize(
    "raw", ["", "abc", "10,50", "1.2.3", "ten", "€10", "10 EUR", "--1", None, [], object()]
)
def test_money_of_refuses_garbage_with_invalid_value(raw: object) -> None:
    with pytest.raises(InvalidValue):
        Money.of(raw, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["NaN", "sNaN", "Infinity", "-Infinity", "inf"])
def test_money_of_refuses_non_finite_decimals(raw: str) -> None:
    with pytest.raises(InvalidValue):
        Money.of(raw, "EUR")


def test_invalid_value_is_a_value_error_and_not_a_business_rule_violation() -> None:
    with pytest.raises(ValueError, match="decimal") as excinfo:
        Money.of("garbage", "EUR")

    assert not isinstance(excinfo.value, BusinessRuleViolation)
    assert excinfo.value.code == "invalid_value"


# --- currencies and minor units ----------------------------------------------


@pytest.mark.parametrize("code", ["XXX", "eur", "", "EURO", "BTC"])
def test_an_unknown_currency_is_refused(code: str) -> None:
    with pytest.raises(InvalidValue):
        Money.of("1", code)
    with pytest.raises(InvalidValue):
        Currency(code)
    with pytest.raises(InvalidValue):
        Money.zero(code)


def test_a_known_currency_reports_its_minor_units_and_prints_as_its_code() -> None:
    assert Currency("EUR").minor_units == 2
    assert Currency("JPY").minor_units == 0
    assert str(Currency("USD")) == "USD"


@pytest.mark.parametrize("raw", ["10.50", "10.500", "10.5", "10", "10.5000000", "0.01"])
def test_euro_accepts_amounts_with_at_most_two_significant_decimals(raw: str) -> None:
    assert Money.of(raw, "EUR").amount == Decimal(raw)


@pytest.mark.parametrize("raw", ["10.501", "0.001", "-0.005", "1.0000001"])
def test_euro_refuses_a_third_significant_decimal(raw: str) -> None:
    with pytest.raises(InvalidValue):
        Money.of(raw, "EUR")


@pytest.mark.parametrize("raw", ["1.5", "0.1", "100.01"])
def test_yen_refuses_any_fraction(raw: str) -> None:
    with pytest.raises(InvalidValue):
        Money.of(raw, "JPY")


@pytest.mark.parametrize("raw", ["1", "1.0", "1.00", "1500"])
def test_yen_accepts_whole_amounts_even_with_trailing_zero_decimals(raw: str) -> None:
    assert Money.of(raw, "JPY").amount == Decimal(raw)


# --- limits ------------------------------------------------------------------


def test_amounts_just_below_max_amount_are_allowed() -> None:
    assert Money.of("999999999999999.99", "EUR").amount < MAX_AMOUNT
    assert Money.of("-999999999999999.99", "EUR").amount > -MAX_AMOUNT


@pytest.mark.parametrize("raw", ["1000000000000000", "-1000000000000000", "1" + "0" * 20])
def test_amounts_at_or_beyond_max_amount_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValue, match="too large"):
        Money.of(raw, "EUR")


@pytest.mark.parametrize("raw", ["1e15", "1E+2", " 10.5 ", "1_000", "0x10", "", "-"])
def test_amount_strings_other_than_plain_decimals_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValue, match="not a decimal amount"):
        Money.of(raw, "EUR")


def test_booleans_are_not_amounts() -> None:
    with pytest.raises(InvalidValue):
        Money.of(True, "EUR")


def test_arithmetic_that_would_exceed_max_amount_is_refused() -> None:
    big = Money.of("999999999999999.99", "EUR")

    with pytest.raises(InvalidValue):
        big + Money.of("0.01", "EUR")


def test_money_cannot_be_built_directly_from_a_float_or_int() -> None:
    with pytest.raises(InvalidValue):
        Money(1.5, Currency("EUR"))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        Money(1, Currency("EUR"))  # type: ignore[arg-type]


# --- arithmetic --------------------------------------------------------------


def test_adding_and_subtracting_in_one_currency_gives_exact_results() -> None:
    a = Money.of("0.10", "EUR")
    b = Money.of("0.20", "EUR")

    assert a + b == Money.of("0.30", "EUR")
    assert b - a == Money.of("0.10", "EUR")
    assert a - b == Money.of("-0.10", "EUR")


def test_subtraction_can_produce_a_negative_amount() -> None:
    result = Money.of("1", "EUR") - Money.of("2", "EUR")

    assert result.is_negative
    assert not result.is_positive
    assert not result.is_zero


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda a, b: a + b, id="add"),
        pytest.param(lambda a, b: a - b, id="subtract"),
        pytest.param(lambda a, b: a < b, id="less-than"),
    ],
)
def test_arithmetic_across_currencies_raises_currency_mismatch(operation: object) -> None:
    eur = Money.of("1", "EUR")
    usd = Money.of("1", "USD")

    with pytest.raises(CurrencyMismatch):
        operation(eur, usd)  # type: ignore[operator]


def test_comparison_within_one_currency_orders_by_amount() -> None:
    small = Money.of("1.00", "EUR")
    large = Money.of("2", "EUR")

    assert small < large
    assert not large < small
    assert not small < Money.of("1", "EUR")


def test_zero_is_zero_and_neither_positive_nor_negative() -> None:
    zero = Money.zero("EUR")

    assert zero.is_zero
    assert not zero.is_positive
    assert not zero.is_negative
    assert zero.to_string() == "0.00"


# --- canonical form, equality, immutability -----------------------------------


@pytest.mark.parametrize(
    ("raw", "currency", "expected"),
    [
        ("10.5", "EUR", "10.50"),
        ("10.500", "EUR", "10.50"),
        ("10", "EUR", "10.00"),
        ("-3.1", "USD", "-3.10"),
        ("1500", "JPY", "1500"),
        ("1500.00", "JPY", "1500"),
        ("999999999999999.99", "EUR", "999999999999999.99"),
    ],
)
def test_to_string_gives_the_canonical_form_with_exactly_the_minor_unit_digits(
    raw: str, currency: str, expected: str
) -> None:
    assert Money.of(raw, currency).to_string() == expected


def test_str_shows_the_canonical_amount_and_the_currency() -> None:
    assert str(Money.of("7.5", "GBP")) == "7.50 GBP"


def test_money_is_equal_by_value_regardless_of_how_the_amount_was_written() -> None:
    a = Money.of("10.5", "EUR")
    b = Money.of("10.500", "EUR")

    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1


def test_money_with_the_same_amount_in_different_currencies_is_not_equal() -> None:
    assert Money.of("10", "EUR") != Money.of("10", "USD")


def test_money_with_different_amounts_is_not_equal() -> None:
    assert Money.of("10", "EUR") != Money.of("10.01", "EUR")


def test_money_is_immutable() -> None:
    money = Money.of("1", "EUR")

    with pytest.raises(dataclasses.FrozenInstanceError):
        money.amount = Decimal("1000")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.currency = Currency("USD")  # type: ignore[misc]
    assert money == Money.of("1", "EUR")


def test_currency_is_immutable() -> None:
    currency = Currency("EUR")

    with pytest.raises(dataclasses.FrozenInstanceError):
        currency.code = "XXX"  # type: ignore[misc]


def test_arithmetic_returns_new_money_and_leaves_the_operands_alone() -> None:
    a = Money.of("1", "EUR")
    b = Money.of("2", "EUR")

    total = a + b

    assert total is not a
    assert a == Money.of("1", "EUR")
    assert b == Money.of("2", "EUR")


# --- properties --------------------------------------------------------------

currencies = st.sampled_from(sorted(MINOR_UNITS))

# Keep |a| + |b| below MAX_AMOUNT so the sum itself is a valid amount.
HALF_LIMIT = MAX_AMOUNT / 2 - 1


@st.composite
def money_pairs(draw: st.DrawFn) -> tuple[Money, Money]:
    code = draw(currencies)
    places = MINOR_UNITS[code]
    amounts = st.decimals(
        min_value=-HALF_LIMIT,
        max_value=HALF_LIMIT,
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )
    return Money(draw(amounts), Currency(code)), Money(draw(amounts), Currency(code))


@st.composite
def any_money(draw: st.DrawFn) -> Money:
    code = draw(currencies)
    limit = MAX_AMOUNT - Decimal(1).scaleb(-MINOR_UNITS[code])
    amount = draw(
        st.decimals(
            min_value=-limit,
            max_value=limit,
            places=MINOR_UNITS[code],
            allow_nan=False,
            allow_infinity=False,
        )
    )
    return Money(amount, Currency(code))


@PROPERTY_SETTINGS
@given(money_pairs())
def test_adding_then_subtracting_the_same_amount_gives_back_the_original(
    pair: tuple[Money, Money],
) -> None:
    a, b = pair

    assert a + b - b == a


@PROPERTY_SETTINGS
@given(money_pairs())
def test_addition_in_one_currency_is_commutative(pair: tuple[Money, Money]) -> None:
    a, b = pair

    assert a + b == b + a


@PROPERTY_SETTINGS
@given(any_money())
def test_to_string_round_trips_through_money_of(money: Money) -> None:
    text = money.to_string()

    parsed = Money.of(text, money.currency.code)

    assert parsed == money
    assert parsed.to_string() == text


@PROPERTY_SETTINGS
@given(any_money())
def test_to_string_always_has_exactly_the_minor_unit_digits(money: Money) -> None:
    text = money.to_string()
    digits = money.currency.minor_units

    if digits == 0:
        assert "." not in text
    else:
        assert len(text.split(".")[1]) == digits
    assert "E" not in text.upper()
