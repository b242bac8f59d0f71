"""Loyalty points: what a customer's balance and an award may be."""

from __future__ import annotations

from domain.shared.errors import InvalidValue

#: The most points a customer can hold: what a 64-bit whole number holds (an order
#: earns less than 10**15, so no plausible history reaches it).
MAX_LOYALTY_POINTS = 2**63 - 1


def validate_loyalty_points(points: object) -> int:
    """``points`` if it can be a customer's balance: a whole number, 0 to the maximum."""
    if (
        isinstance(points, bool)
        or not isinstance(points, int)
        or not 0 <= points <= MAX_LOYALTY_POINTS
    ):
        raise InvalidValue(
            f"loyalty points are a whole number from 0 to {MAX_LOYALTY_POINTS}, got {points!r}"
        )
    return points


def validate_award(points: object) -> int:
    """``points`` if they can be awarded: a positive whole number."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise InvalidValue(
            f"loyalty points awarded must be a positive whole number, got {points!r}"
        )
    return points
