"""The ``award_loyalty_points`` policy: a confirmed order earns its customer one point per
whole unit of its total (rounded down, in the order's currency)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

from worker.bus.commands import Command
from worker.contexts.customers.commands import AwardLoyaltyPoints
from worker.readside.declarations import LoggedEvent, Policy

ORDER_CONFIRMED = "orders.OrderConfirmed"


def points_for(total: str) -> int:
    """The whole units of ``total``, a decimal string: "129.99" earns 129, "0.50" none."""
    # Decimal, never float: float("999999999999999.99") is 1e15, a point too many.
    return max(0, int(Decimal(total).to_integral_value(rounding=ROUND_FLOOR)))


def decide(event: LoggedEvent) -> Sequence[Command]:
    """One award for a confirmed order worth at least one point; nothing otherwise."""
    payload = event.payload
    points = points_for(payload["total"])
    if points == 0:
        return []
    return [
        AwardLoyaltyPoints(
            customer_id=payload["customer_id"], order_id=payload["order_id"], points=points
        )
    ]


AWARD_LOYALTY_POINTS = Policy(name="award_loyalty_points", events=(ORDER_CONFIRMED,), decide=decide)
