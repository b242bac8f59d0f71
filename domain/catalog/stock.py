"""Units of stock: how many one change may move, and a reservation holding some for an order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from domain.shared.errors import InvalidValue
from domain.shared.ids import validate_id
from domain.shared.model import ValueObject

#: The most units one quantity (a restock, a reservation) may move.
MAX_QUANTITY = 1_000_000


def validate_quantity(quantity: int, *, at_least: int = 1) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidValue(f"a quantity is a whole number, got {quantity!r}")
    if not at_least <= quantity <= MAX_QUANTITY:
        raise InvalidValue(f"quantity must be {at_least} to {MAX_QUANTITY}, got {quantity}")
    return quantity


def aware(now: datetime) -> datetime:
    """``now`` if it says its timezone (the domain compares times across processes)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidValue(f"times are timezone-aware, got {now!r}")
    return now


@dataclass(frozen=True)
class Reservation(ValueObject):
    """Units held for one order until ``expires_at``."""

    order_id: str
    quantity: int
    expires_at: datetime

    def validate(self) -> None:
        validate_id("order", self.order_id)
        validate_quantity(self.quantity)
        aware(self.expires_at)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


NO_RESERVATIONS: Mapping[str, Reservation] = MappingProxyType({})
