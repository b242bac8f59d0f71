"""The Product aggregate: every rule by example, and the stock invariants under random use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.catalog.errors import OutOfStock, ProductIsDiscontinued, ReservationExpired
from domain.catalog.events import (
    ProductAdded,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductRestocked,
    StockCommitted,
    StockReleased,
    StockReserved,
    StockReturned,
)
from domain.catalog.product import (
    MAX_QUANTITY,
    Product,
    ProductStatus,
    Reservation,
    validate_sku,
)
from domain.shared.errors import BusinessRuleViolation, CurrencyMismatch, InvalidValue
from domain.shared.money import Money

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
HOLD = timedelta(minutes=15)


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def stocked(on_hand: int = 10) -> Product:
    """A product added and committed (events collected, version 1)."""
    product = Product.add("SKU-1", "Widget", eur("2.50"), on_hand)
    product.collect_events()
    return product


def state(product: Product) -> tuple[object, ...]:
    return (
        product.name,
        product.price,
        product.status,
        product.on_hand,
        dict(product.reservations),
        product.version,
        list(product.pending_events),
    )


def assert_refused_without_effect(
    product: Product, operation: Callable[[], object], error: type[Exception]
) -> None:
    before = state(product)
    with pytest.raises(error):
        operation()
    assert state(product) == before


def last_event(product: Product) -> object:
    return product.pending_events[-1]


# --- adding, restocking, pricing, discontinuing --------------------------------------


def test_adding_a_product_records_product_added_with_version_one() -> None:
    product = Product.add("SKU-1", "Widget", eur("2.5"), stock=7)

    [event] = product.pending_events
    assert isinstance(event, ProductAdded)
    assert (event.aggregate_id, event.aggregate_version) == ("SKU-1", 1)
    assert event.type_name() == "catalog.ProductAdded"
    assert event.payload() == {
        "sku": "SKU-1",
        "name": "Widget",
        "price": "2.50",
        "currency": "EUR",
        "on_hand": 7,
    }
    assert (product.sku, product.on_hand, product.status) == ("SKU-1", 7, ProductStatus.ACTIVE)
    assert product.created_at == product.updated_at == event.occurred_at


@pytest.mark.parametrize("sku", ["", "sku-1", "-A", "A B", "A/B", "A" * 33, "Ä", "A_1"])
def test_an_invalid_sku_is_refused(sku: str) -> None:
    with pytest.raises(InvalidValue):
        Product.add(sku, "Widget", eur("1"))


@pytest.mark.parametrize("sku", ["A", "0", "SKU-1", "A" * 32, "9-9-"])
def test_a_valid_sku_is_accepted(sku: str) -> None:
    assert validate_sku(sku) == sku
    assert Product.add(sku, "Widget", eur("1")).sku == sku


@pytest.mark.parametrize(
    ("name", "price", "stock"),
    [
        ("", "1", 0),
        ("  ", "1", 0),
        ("x" * 201, "1", 0),
        ("Widget", "0", 0),
        ("Widget", "-1", 0),
        ("Widget", "1", -1),
        ("Widget", "1", MAX_QUANTITY + 1),
        ("Widget", "1", True),
    ],
)
def test_a_product_needs_a_name_a_positive_price_and_a_sane_stock(
    name: str, price: str, stock: int
) -> None:
    with pytest.raises(InvalidValue):
        Product.add("SKU-1", name, eur(price), stock)


def test_restocking_adds_to_what_is_on_hand() -> None:
    product = stocked(10)

    product.restock(5)

    assert product.on_hand == 15
    [event] = product.pending_events
    assert isinstance(event, ProductRestocked)
    assert event.payload() == {"sku": "SKU-1", "quantity": 5, "on_hand": 15}
    assert event.aggregate_version == 2


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, True])
def test_a_restock_moves_one_to_a_million_units(quantity: int) -> None:
    product = stocked()

    assert_refused_without_effect(product, lambda: product.restock(quantity), InvalidValue)


def test_changing_the_price_records_the_previous_one() -> None:
    product = stocked()

    product.change_price(eur("3"))

    assert product.price == eur("3.00")
    [event] = product.pending_events
    assert isinstance(event, ProductPriceChanged)
    assert (event.price, event.currency, event.previous_price) == ("3.00", "EUR", "2.50")


def test_a_price_in_another_currency_is_a_currency_mismatch() -> None:
    product = stocked()

    change = lambda: product.change_price(Money.of("3", "USD"))  # noqa: E731
    assert_refused_without_effect(product, change, CurrencyMismatch)


def test_a_price_must_stay_positive() -> None:
    product = stocked()

    assert_refused_without_effect(product, lambda: product.change_price(eur("0")), InvalidValue)


def test_discontinuing_records_product_discontinued_once() -> None:
    product = stocked()

    product.discontinue()

    assert product.status is ProductStatus.DISCONTINUED
    assert isinstance(last_event(product), ProductDiscontinued)
    assert_refused_without_effect(product, product.discontinue, ProductIsDiscontinued)


# --- reserving -------------------------------------------------------------------------


def test_a_reservation_holds_units_until_now_plus_the_hold() -> None:
    product = stocked(10)

    product.reserve("o-1", 4, T0, HOLD)

    assert product.held_by("o-1", T0) == Reservation("o-1", 4, T0 + HOLD)
    assert (product.reserved(T0), product.available(T0), product.on_hand) == (4, 6, 10)
    [event] = product.pending_events
    assert isinstance(event, StockReserved)
    assert event.payload() == {
        "sku": "SKU-1",
        "order_id": "o-1",
        "quantity": 4,
        "expires_at": (T0 + HOLD).isoformat(),
        "on_hand": 10,
        "reserved": 4,
    }
    assert event.occurred_at == T0 == product.updated_at


def test_a_reservation_is_all_or_nothing() -> None:
    product = stocked(10)
    product.reserve("o-1", 7, T0, HOLD)

    assert_refused_without_effect(product, lambda: product.reserve("o-2", 4, T0, HOLD), OutOfStock)
    product.reserve("o-2", 3, T0, HOLD)
    assert product.available(T0) == 0


def test_reserving_again_replaces_the_orders_own_reservation_and_renews_it() -> None:
    product = stocked(10)
    product.reserve("o-1", 8, T0, HOLD)
    later = T0 + timedelta(minutes=10)

    product.reserve("o-1", 10, later, HOLD)  # its own 8 count as available to it

    assert product.held_by("o-1", later) == Reservation("o-1", 10, later + HOLD)
    assert product.reserved(later) == 10


def test_a_discontinued_product_takes_no_reservation() -> None:
    product = stocked(10)
    product.discontinue()

    reserve = lambda: product.reserve("o-1", 1, T0, HOLD)  # noqa: E731
    assert_refused_without_effect(product, reserve, ProductIsDiscontinued)


def test_a_discontinued_product_renews_an_orders_live_hold_for_no_more_than_it_holds() -> None:
    product = stocked(10)
    product.reserve("o-1", 4, T0, HOLD)
    product.discontinue()
    later = T0 + timedelta(minutes=10)

    product.reserve("o-1", 4, later, HOLD)  # the saga's renewal before its commit
    product.reserve("o-1", 3, later, HOLD)

    assert product.held_by("o-1", later) == Reservation("o-1", 3, later + HOLD)
    assert isinstance(last_event(product), StockReserved)


@pytest.mark.parametrize(
    ("order_id", "quantity", "minutes"),
    [("o-1", 5, 10), ("o-1", 4, 15), ("o-2", 1, 10)],
    ids=["more than it holds", "its hold expired", "another order"],
)
def test_a_discontinued_product_takes_no_new_reservation(
    order_id: str, quantity: int, minutes: int
) -> None:
    product = stocked(10)
    product.reserve("o-1", 4, T0, HOLD)
    product.discontinue()

    later = T0 + timedelta(minutes=minutes)
    reserve = lambda: product.reserve(order_id, quantity, later, HOLD)  # noqa: E731
    assert_refused_without_effect(product, reserve, ProductIsDiscontinued)


def test_an_expired_reservation_stops_counting() -> None:
    product = stocked(10)
    product.reserve("o-1", 10, T0, HOLD)
    expiry = T0 + HOLD

    assert product.available(expiry - timedelta(seconds=1)) == 0
    assert (product.reserved(expiry), product.available(expiry)) == (0, 10)
    assert product.held_by("o-1", expiry) is None
    assert "o-1" in product.reservations  # stored as is until its order touches it
    product.reserve("o-2", 10, expiry, HOLD)
    assert product.reserved(expiry) == 10


@pytest.mark.parametrize(
    ("order_id", "quantity", "now", "hold"),
    [
        ("o-1", 0, T0, HOLD),
        ("o-1", -2, T0, HOLD),
        ("o 1", 1, T0, HOLD),
        ("o-1", 1, T0.replace(tzinfo=None), HOLD),
        ("o-1", 1, T0, timedelta(0)),
    ],
)
def test_a_malformed_reservation_is_invalid(
    order_id: str, quantity: int, now: datetime, hold: timedelta
) -> None:
    product = stocked(10)

    reserve = lambda: product.reserve(order_id, quantity, now, hold)  # noqa: E731
    assert_refused_without_effect(product, reserve, InvalidValue)


# --- releasing and committing ------------------------------------------------------------


def test_releasing_gives_the_units_back() -> None:
    product = stocked(10)
    product.reserve("o-1", 4, T0, HOLD)

    product.release("o-1", T0)

    assert (product.reserved(T0), product.reservations) == (0, {})
    event = last_event(product)
    assert isinstance(event, StockReleased)
    assert (event.order_id, event.quantity, event.reason, event.reserved) == (
        "o-1",
        4,
        "released",
        0,
    )


def test_releasing_an_expired_reservation_says_so() -> None:
    product = stocked(10)
    product.reserve("o-1", 4, T0, HOLD)

    product.release("o-1", T0 + HOLD)

    event = last_event(product)
    assert isinstance(event, StockReleased) and event.reason == "expired"
    assert product.reservations == {}


def test_releasing_what_is_not_held_changes_nothing_and_records_no_event() -> None:
    product = stocked(10)
    before = state(product)

    product.release("o-1", T0)

    assert state(product) == before


def test_committing_a_live_reservation_takes_its_units_out_of_stock() -> None:
    product = stocked(10)
    product.reserve("o-1", 4, T0, HOLD)

    product.commit("o-1", 4, T0 + timedelta(minutes=1))

    assert (product.on_hand, product.reservations) == (6, {})
    event = last_event(product)
    assert isinstance(event, StockCommitted)
    assert event.payload() == {
        "sku": "SKU-1",
        "order_id": "o-1",
        "quantity": 4,
        "on_hand": 6,
        "reserved": 0,
    }


def test_an_expired_reservation_commits_straight_from_free_stock() -> None:
    product = stocked(10)
    product.reserve("o-1", 4, T0, HOLD)

    product.commit("o-1", 4, T0 + HOLD)

    assert (product.on_hand, product.reservations) == (6, {})


def test_committing_without_a_live_reservation_or_free_stock_is_reservation_expired() -> None:
    product = stocked(5)
    product.reserve("o-1", 3, T0, HOLD)
    product.reserve("o-2", 5, T0 + HOLD, HOLD)  # o-1's expired: o-2 takes everything

    commit = lambda: product.commit("o-1", 3, T0 + HOLD)  # noqa: E731
    assert_refused_without_effect(product, commit, ReservationExpired)


def test_a_discontinued_product_commits_live_reservations_only() -> None:
    product = stocked(10)
    product.reserve("o-1", 2, T0, HOLD)
    product.discontinue()

    product.commit("o-1", 2, T0)
    assert product.on_hand == 8
    commit = lambda: product.commit("o-2", 1, T0)  # noqa: E731
    assert_refused_without_effect(product, commit, ReservationExpired)


def test_returning_committed_units_puts_them_back_on_hand() -> None:
    product = stocked(10)
    product.reserve("o-1", 4, T0, HOLD)
    product.commit("o-1", 4, T0)
    product.reserve("o-2", 6, T0, HOLD)

    product.return_committed("o-1", 4)

    assert (product.on_hand, product.reserved(T0), product.available(T0)) == (10, 6, 4)
    event = last_event(product)
    assert isinstance(event, StockReturned)
    assert event.type_name() == "catalog.StockReturned"
    assert event.payload() == {"sku": "SKU-1", "order_id": "o-1", "quantity": 4, "on_hand": 10}
    assert event.aggregate_version == 5
    assert sorted(product.reservations) == ["o-2"]  # other orders' holds are untouched


def test_a_discontinued_product_takes_its_committed_units_back() -> None:
    product = stocked(10)
    product.commit("o-1", 4, T0)
    product.discontinue()

    product.return_committed("o-1", 4)

    assert (product.on_hand, product.status) == (10, ProductStatus.DISCONTINUED)


@pytest.mark.parametrize(
    ("order_id", "quantity"),
    [("o-1", 0), ("o-1", -1), ("o-1", True), ("o-1", MAX_QUANTITY + 1), ("o 1", 1)],
)
def test_a_malformed_return_is_invalid(order_id: str, quantity: int) -> None:
    product = stocked(10)

    give_back = lambda: product.return_committed(order_id, quantity)  # noqa: E731
    assert_refused_without_effect(product, give_back, InvalidValue)


def test_refusals_carry_their_codes() -> None:
    codes = {
        error.code
        for error in (OutOfStock, ProductIsDiscontinued, ReservationExpired, CurrencyMismatch)
    }
    assert codes == {
        "out_of_stock",
        "product_discontinued",
        "reservation_expired",
        "currency_mismatch",
    }
    assert all(issubclass(e, BusinessRuleViolation) for e in (OutOfStock, ReservationExpired))


def test_the_constructor_refuses_what_no_product_can_be() -> None:
    with pytest.raises(InvalidValue):
        Product("SKU-1", "Widget", eur("1"), on_hand=-1)
    with pytest.raises(InvalidValue):
        Product("SKU-1", "Widget", eur("1"), reservations={"o-2": Reservation("o-1", 1, T0)})


# --- invariants under random use ----------------------------------------------------------


@dataclass
class Model:
    """The rules written out plainly: what the product must say after each step."""

    on_hand: int
    active: bool = True
    holds: dict[str, tuple[int, datetime]] = field(default_factory=dict)

    def reserved(self, now: datetime) -> int:
        return sum(q for q, expires in self.holds.values() if now < expires)

    def live(self, order: str, now: datetime) -> int:
        q, expires = self.holds.get(order, (0, now))
        return q if now < expires else 0


orders = st.sampled_from(["o-1", "o-2", "o-3"])
quantities = st.integers(min_value=1, max_value=12)
steps = st.lists(
    st.tuples(
        st.one_of(
            st.tuples(st.just("reserve"), orders, quantities),
            st.tuples(st.just("release"), orders, st.none()),
            st.tuples(st.just("commit"), orders, quantities),
            st.tuples(st.just("return"), orders, quantities),
            st.tuples(st.just("restock"), st.none(), quantities),
            st.tuples(st.just("discontinue"), st.none(), st.none()),
        ),
        st.integers(min_value=0, max_value=600),  # seconds that pass before the step
    ),
    max_size=40,
)


def expected(model: Model, step: tuple[str, str | None, int | None], now: datetime) -> type | None:
    """Apply ``step`` to the model; the error the product must raise, or the event it records
    (None: no change at all)."""
    name, order, quantity = step
    if name == "restock":
        assert quantity is not None
        model.on_hand += quantity
        return ProductRestocked
    if name == "discontinue":
        if not model.active:
            return ProductIsDiscontinued
        model.active = False
        return ProductDiscontinued
    assert order is not None
    if name == "release":
        return StockReleased if model.holds.pop(order, None) else None
    assert quantity is not None
    if name == "return":
        model.on_hand += quantity
        return StockReturned
    free = model.on_hand - model.reserved(now)
    if name == "reserve":
        if not model.active and quantity > model.live(order, now):
            return ProductIsDiscontinued  # only a live hold is renewed, for no more units
        if quantity > free + model.live(order, now):
            return OutOfStock
        model.holds[order] = (quantity, now + HOLD)
        return StockReserved
    if model.live(order, now):
        model.on_hand -= model.holds.pop(order)[0]
    elif model.active and free >= quantity:
        model.holds.pop(order, None)
        model.on_hand -= quantity
    else:
        return ReservationExpired
    return StockCommitted


def apply(product: Product, step: tuple[str, str | None, int | None], now: datetime) -> None:
    name, order, quantity = step
    if name == "reserve":
        product.reserve(order or "", quantity or 0, now, HOLD)
    elif name == "release":
        product.release(order or "", now)
    elif name == "commit":
        product.commit(order or "", quantity or 0, now)
    elif name == "return":
        product.return_committed(order or "", quantity or 0)
    elif name == "restock":
        product.restock(quantity or 0)
    else:
        product.discontinue()


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=20), steps)
def test_any_sequence_keeps_stock_whole_and_records_one_event_per_change(
    stock: int, plan: list[tuple[tuple[str, str | None, int | None], int]]
) -> None:
    product = Product.add("SKU-1", "Widget", eur("2.50"), stock)
    model = Model(on_hand=stock)
    now = T0

    for step, seconds in plan:
        now += timedelta(seconds=seconds)
        before, recorded = state(product), len(product.pending_events)
        outcome = expected(model, step, now)
        if outcome is not None and issubclass(outcome, Exception):
            with pytest.raises(outcome):
                apply(product, step, now)
            assert state(product) == before, f"refused {step} changed the product"
            continue
        apply(product, step, now)
        if outcome is None:
            assert state(product) == before, f"{step} released nothing, yet changed something"
        else:
            assert len(product.pending_events) == recorded + 1
            assert isinstance(last_event(product), outcome)
        if step[0] == "reserve":  # all or nothing: exactly what was asked is held
            assert product.held_by(step[1] or "", now) == Reservation(
                step[1] or "", step[2] or 0, now + HOLD
            )

        assert product.on_hand == model.on_hand >= 0
        assert product.reserved(now) == model.reserved(now) <= product.on_hand
        assert product.available(now) >= 0
        assert (product.status is ProductStatus.ACTIVE) == model.active
        assert {o: (r.quantity, r.expires_at) for o, r in product.reservations.items()} == (
            model.holds
        )

    events = product.collect_events()
    assert [e.aggregate_version for e in events] == list(range(1, len(events) + 1))
    assert product.version == len(events)
