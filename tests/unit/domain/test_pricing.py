"""Pricing: volume discounts per line, rounded half-even, and totals; never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.orders.pricing import TIERS, DiscountTier, PricedLine, Pricing
from domain.shared.errors import InvalidValue
from domain.shared.money import MINOR_UNITS, Currency, Money

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)
PRICING = Pricing()


def money(amount: str, currency: str = "EUR") -> Money:
    return Money.of(amount, currency)


def prices(currency: str) -> st.SearchStrategy[Money]:
    """Any unit price a line may carry: 1000 units of it stay below Money's limit."""
    digits = MINOR_UNITS[currency]
    amounts = st.decimals(min_value=0, max_value=Decimal("1e11"), places=digits)
    return amounts.map(lambda amount: Money(amount, Currency(currency)))


any_price = st.sampled_from(["EUR", "JPY"]).flatmap(prices)
quantities = st.integers(min_value=1, max_value=1000)


def expected_rate(quantity: int) -> Decimal:
    """The tiers, written out by hand: 10% from 50 units, 5% from 10, none below."""
    if quantity >= 50:
        return Decimal(10)
    if quantity >= 10:
        return Decimal(5)
    return Decimal(0)


# --- the tiers ------------------------------------------------------------------------------


def test_the_tiers_are_five_percent_from_ten_units_and_ten_percent_from_fifty() -> None:
    assert (DiscountTier(50, Decimal(10)), DiscountTier(10, Decimal(5))) == TIERS
    assert PRICING.tiers == TIERS


@pytest.mark.parametrize(
    ("quantity", "rate"),
    [(1, 0), (9, 0), (10, 5), (11, 5), (49, 5), (50, 10), (51, 10), (1000, 10)],
)
def test_the_highest_tier_a_quantity_reaches_sets_its_rate(quantity: int, rate: int) -> None:
    assert PRICING.percent_for(quantity) == Decimal(rate)


def test_tiers_may_be_declared_in_any_order() -> None:
    shuffled = Pricing(tiers=(DiscountTier(10, Decimal(5)), DiscountTier(50, Decimal(10))))

    assert [shuffled.percent_for(q) for q in (9, 10, 50)] == [0, 5, 10]


def test_two_tiers_starting_at_the_same_quantity_are_refused() -> None:
    with pytest.raises(InvalidValue):
        Pricing(tiers=(DiscountTier(10, Decimal(5)), DiscountTier(10, Decimal(7))))


def test_pricing_without_tiers_gives_no_discount() -> None:
    assert Pricing(tiers=()).price_line(money("3.00"), 500).discount == money("0")


@pytest.mark.parametrize(
    ("min_quantity", "percent"),
    [(0, Decimal(5)), (-1, Decimal(5)), (10, Decimal(-1)), (10, Decimal(101)), (True, Decimal(5))],
)
def test_a_tier_outside_its_bounds_is_invalid(min_quantity: int, percent: Decimal) -> None:
    with pytest.raises(InvalidValue):
        DiscountTier(min_quantity, percent)


# --- a line, worked by hand -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit_price", "currency", "quantity", "discount", "subtotal"),
    [
        ("19.99", "EUR", 9, "0.00", "179.91"),  # below every tier
        ("19.99", "EUR", 12, "11.99", "227.89"),  # 5% of 239.88 = 11.994
        ("2.50", "EUR", 60, "15.00", "135.00"),  # 10% of 150.00
        ("0.03", "EUR", 10, "0.02", "0.28"),  # 5% of 0.30 = 0.015: half to even, up
        ("0.01", "EUR", 10, "0.00", "0.10"),  # 5% of 0.10 = 0.005: half to even, down
        ("1", "JPY", 10, "0", "10"),  # 0.5 yen rounds to the even 0
        ("3", "JPY", 10, "2", "28"),  # 1.5 yen rounds to the even 2
        ("5", "JPY", 10, "2", "48"),  # 2.5 yen rounds to the even 2
        ("7", "JPY", 10, "4", "66"),  # 3.5 yen rounds to the even 4
        ("1250", "JPY", 50, "6250", "56250"),
    ],
)
def test_a_discount_is_rounded_half_even_to_the_currencys_minor_unit(
    unit_price: str, currency: str, quantity: int, discount: str, subtotal: str
) -> None:
    priced = PRICING.price_line(money(unit_price, currency), quantity)

    assert priced == PricedLine(
        discount=money(discount, currency), subtotal=money(subtotal, currency)
    )


def test_the_total_is_the_sum_of_the_subtotals() -> None:
    lines = [PRICING.price_line(money("19.99"), 12), PRICING.price_line(money("2.50"), 60)]

    assert PRICING.total(lines) == money("362.89")


def test_there_is_no_total_of_no_lines() -> None:
    with pytest.raises(InvalidValue):
        PRICING.total([])


@pytest.mark.parametrize("quantity", [0, -1, True, 1.0, 10.0, "10", None])
def test_a_quantity_that_is_not_a_positive_whole_number_is_invalid(quantity: object) -> None:
    with pytest.raises(InvalidValue):
        PRICING.price_line(money("1.00"), quantity)  # type: ignore[arg-type]


def test_a_negative_unit_price_is_invalid() -> None:
    with pytest.raises(InvalidValue):
        PRICING.price_line(money("-1.00"), 3)


# --- no float, ever -------------------------------------------------------------------------


@given(price=st.floats(allow_nan=True, allow_infinity=True), quantity=quantities)
@PROPERTY_SETTINGS
def test_a_float_price_is_refused_however_it_is_passed(price: float, quantity: int) -> None:
    with pytest.raises(InvalidValue):
        PRICING.price_line(price, quantity)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        PRICING.price_line(Money.of(price, "EUR"), quantity)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        PRICING.price_line(Money(price, Currency("EUR")), quantity)  # type: ignore[arg-type]


def test_a_float_rate_is_refused() -> None:
    with pytest.raises(InvalidValue):
        DiscountTier(10, 5.0)  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------------------------


@given(unit_price=any_price, quantity=quantities)
@PROPERTY_SETTINGS
def test_any_line_gets_its_tiers_rate_rounded_half_even(unit_price: Money, quantity: int) -> None:
    priced = PRICING.price_line(unit_price, quantity)

    gross = unit_price.amount * quantity
    minor_unit = Decimal(1).scaleb(-unit_price.currency.minor_units)
    share = gross * expected_rate(quantity) / Decimal(100)
    assert priced.discount.amount == share.quantize(minor_unit, rounding=ROUND_HALF_EVEN)
    assert priced.subtotal.amount + priced.discount.amount == gross
    assert not priced.subtotal.is_negative
    assert priced.discount.currency == priced.subtotal.currency == unit_price.currency
    assert type(priced.discount.amount) is Decimal and type(priced.subtotal.amount) is Decimal


@given(unit_price=prices("JPY"), quantity=quantities)
@PROPERTY_SETTINGS
def test_a_yen_discount_is_whole_yen(unit_price: Money, quantity: int) -> None:
    discount = PRICING.price_line(unit_price, quantity).discount.amount

    assert discount == discount.to_integral_value()


@given(
    lines=st.sampled_from(["EUR", "JPY"]).flatmap(
        lambda currency: st.lists(st.tuples(prices(currency), quantities), min_size=1, max_size=30)
    )
)
@PROPERTY_SETTINGS
def test_any_total_is_the_sum_of_its_lines(lines: list[tuple[Money, int]]) -> None:
    priced = [PRICING.price_line(price, quantity) for price, quantity in lines]

    total = PRICING.total(priced)

    assert total.amount == sum((line.subtotal.amount for line in priced), Decimal(0))
    gross = sum((price.amount * quantity for price, quantity in lines), Decimal(0))
    assert total.amount == gross - sum((line.discount.amount for line in priced), Decimal(0))
    assert total.currency == lines[0][0].currency
