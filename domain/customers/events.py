"""What happens to customers, in the past tense. Published as ``customers.<EventName>``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from domain.shared.model import DomainEvent


@dataclass(frozen=True, kw_only=True)
class CustomerEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "customers"
    # ``name`` cannot be a field: it would hide ``DomainEvent.name()`` on every instance.
    published_as: ClassVar[Mapping[str, str]] = {
        "aggregate_id": "customer_id",
        "customer_name": "name",
    }


@dataclass(frozen=True, kw_only=True)
class CustomerRegistered(CustomerEvent):
    """Addresses as ``Address.as_dict()``: ``line1``, ``line2`` (or None), ``city``,
    ``postal_code``, ``country``."""

    customer_name: str
    email: str
    payment_account_id: str
    billing_address: dict[str, str | None]
    shipping_address: dict[str, str | None]


@dataclass(frozen=True, kw_only=True)
class LoyaltyPointsAwarded(CustomerEvent):
    """``points`` earned by the order ``order_id``; ``loyalty_points`` is the new balance."""

    order_id: str
    points: int
    loyalty_points: int
