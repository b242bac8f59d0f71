"""Loyalty points on the Customer: awarded for orders, always positive, adding up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.customers.customer import Address, Customer, Email
from domain.customers.events import LoyaltyPointsAwarded
from domain.customers.loyalty import MAX_LOYALTY_POINTS
from domain.shared.errors import InvalidValue

HOME = Address("Hauptstraße 1", "Berlin", "10115", "DE")


def ann(points: int = 0, version: int = 1) -> Customer:
    return Customer("cust-1", "Ann", Email("ann@example.com"), HOME, HOME, "acc-1", points, version)


def test_an_award_adds_the_points_and_records_the_new_balance() -> None:
    customer = ann(points=10, version=4)

    customer.award_loyalty_points("ord-1", 129)

    assert customer.loyalty_points == 139
    [event] = customer.pending_events
    assert isinstance(event, LoyaltyPointsAwarded)
    assert type(event).type_name() == "customers.LoyaltyPointsAwarded"
    assert event.aggregate_version == 5
    assert event.payload() == {
        "customer_id": "cust-1",
        "order_id": "ord-1",
        "points": 129,
        "loyalty_points": 139,
    }
    assert customer.updated_at == event.occurred_at


@pytest.mark.parametrize("points", [0, -1, True, 1.5, "10", None])
def test_only_a_positive_whole_number_of_points_can_be_awarded(points: object) -> None:
    customer = ann(points=10)

    with pytest.raises(InvalidValue, match="loyalty points awarded must be a positive whole"):
        customer.award_loyalty_points("ord-1", points)  # type: ignore[arg-type]

    assert (customer.loyalty_points, customer.pending_events) == (10, [])


def test_points_are_awarded_for_an_order_with_a_valid_id() -> None:
    customer = ann()

    with pytest.raises(InvalidValue, match="order id"):
        customer.award_loyalty_points("ord/1", 5)

    assert (customer.loyalty_points, customer.pending_events) == (0, [])


def test_a_balance_never_passes_what_a_64_bit_number_holds() -> None:
    customer = ann(points=MAX_LOYALTY_POINTS - 1)

    customer.award_loyalty_points("ord-1", 1)
    with pytest.raises(InvalidValue):
        customer.award_loyalty_points("ord-2", 1)

    assert customer.loyalty_points == MAX_LOYALTY_POINTS
    assert len(customer.pending_events) == 1
    with pytest.raises(InvalidValue):
        ann(points=MAX_LOYALTY_POINTS + 1)


@given(st.lists(st.integers(min_value=1, max_value=10**15), max_size=20))
def test_the_balance_is_the_sum_of_the_awards_each_event_telling_the_running_total(
    awards: list[int],
) -> None:
    customer = ann(version=1)

    for n, points in enumerate(awards):
        customer.award_loyalty_points(f"ord-{n}", points)

    assert customer.loyalty_points == sum(awards)
    events = [e for e in customer.pending_events if isinstance(e, LoyaltyPointsAwarded)]
    assert [e.points for e in events] == awards
    running = [sum(awards[: n + 1]) for n in range(len(awards))]
    assert [e.loyalty_points for e in events] == running
    assert [e.aggregate_version for e in events] == list(range(2, len(awards) + 2))
