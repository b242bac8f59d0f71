"""The award_loyalty_points policy: what a confirmed order earns, decided from its event alone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.contexts.customers.commands import AwardLoyaltyPoints
from worker.contexts.customers.loyalty import AWARD_LOYALTY_POINTS, points_for
from worker.readside.declarations import LoggedEvent


def confirmed(total: str, **payload: Any) -> LoggedEvent:
    body = {
        "order_id": "ord-1",
        "customer_id": "cust-1",
        "currency": "EUR",
        "total": total,
        "occurred_at": "2025-03-01T10:00:00+00:00",
        **payload,
    }
    return LoggedEvent(
        position=42,
        event_id="evt-1",
        event_type="orders.OrderConfirmed",
        aggregate_type="orders",
        aggregate_id=body["order_id"],
        aggregate_version=6,
        payload=body,
        occurred_at=body["occurred_at"],
        correlation_id="corr-1",
        causation_id=None,
    )


def test_the_policy_follows_confirmed_orders_only() -> None:
    assert AWARD_LOYALTY_POINTS.name == "award_loyalty_points"
    assert AWARD_LOYALTY_POINTS.events == ("orders.OrderConfirmed",)


def test_its_name_is_the_one_its_command_says_may_issue_it() -> None:
    assert AwardLoyaltyPoints.issued_by == AWARD_LOYALTY_POINTS.name


def test_a_confirmed_order_earns_its_customer_the_whole_units_of_its_total() -> None:
    commands = AWARD_LOYALTY_POINTS.decide(confirmed("129.99"))

    assert commands == [AwardLoyaltyPoints(customer_id="cust-1", order_id="ord-1", points=129)]


@pytest.mark.parametrize("total", ["0.50", "0.99", "0.00", "0"])
def test_an_order_worth_less_than_one_whole_unit_earns_no_command_at_all(total: str) -> None:
    assert AWARD_LOYALTY_POINTS.decide(confirmed(total)) == []


@pytest.mark.parametrize(
    ("total", "points"),
    [
        ("1.00", 1),
        ("129.99", 129),
        ("1000", 1000),
        ("5000", 5000),  # a currency without minor units (JPY): one point per yen
        ("12.345", 12),  # three minor-unit digits (KWD)
        # As a float this is 1e15: a point too many.
        ("999999999999999.99", 999999999999999),
    ],
)
def test_points_are_the_total_rounded_down_exactly(total: str, points: int) -> None:
    assert points_for(total) == points


@given(st.decimals(min_value=0, max_value=Decimal("1e15") - 1, places=2))
def test_points_never_exceed_the_total_and_miss_less_than_one_unit(total: Decimal) -> None:
    points = points_for(str(total))

    assert points <= total < points + 1


def test_the_award_names_the_order_and_customer_of_the_event() -> None:
    event = confirmed("20.00", order_id="ord-77", customer_id="cust-9")

    [command] = AWARD_LOYALTY_POINTS.decide(event)

    assert isinstance(command, AwardLoyaltyPoints)
    assert (command.customer_id, command.order_id, command.points) == ("cust-9", "ord-77", 20)
    assert command.model_dump(mode="json") == {
        "customer_id": "cust-9",
        "order_id": "ord-77",
        "points": 20,
    }


def test_the_same_event_always_decides_the_same_command() -> None:
    event = confirmed("42.10")

    assert AWARD_LOYALTY_POINTS.decide(event) == AWARD_LOYALTY_POINTS.decide(event)
    assert AWARD_LOYALTY_POINTS.message_id(event.event_id, 1) == (
        "policy-award_loyalty_points/evt-1/1"
    )
