"""The Customer aggregate: a name, an email, two addresses and the account that pays."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from domain.customers.events import CustomerRegistered, LoyaltyPointsAwarded
from domain.customers.loyalty import validate_award, validate_loyalty_points
from domain.shared.countries import COUNTRY_CODES
from domain.shared.errors import InvalidValue
from domain.shared.ids import validate_id
from domain.shared.model import TimestampedAggregate, ValueObject

NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path
LINE_MAX_LENGTH = 200
CITY_MAX_LENGTH = 100
POSTAL_CODE_MAX_LENGTH = 20

#: One "@", no spaces, a dot inside the domain: a plausible address, not RFC 5322.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def _text(field: str, value: object, max_length: int) -> str:
    """``value`` if it is text of 1 to ``max_length`` characters, not only blanks."""
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidValue(f"{field} must be 1 to {max_length} characters, not blank")
    return value


def validate_name(name: str) -> str:
    return _text("name", name, NAME_MAX_LENGTH)


def validate_country(country: str) -> str:
    if country not in COUNTRY_CODES:
        raise InvalidValue(
            f"{country!r} is not an ISO 3166-1 alpha-2 country code (upper case, such as DE)"
        )
    return country


@dataclass(frozen=True)
class Email(ValueObject):
    address: str

    def validate(self) -> None:
        if (
            not isinstance(self.address, str)
            or len(self.address) > EMAIL_MAX_LENGTH
            or not _EMAIL.fullmatch(self.address)
        ):
            raise InvalidValue(
                f"{self.address!r} is not an email address (one @, a dot in the domain, "
                f"no spaces, at most {EMAIL_MAX_LENGTH} characters)"
            )

    def __str__(self) -> str:
        return self.address


@dataclass(frozen=True)
class Address(ValueObject):
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None

    def validate(self) -> None:
        _text("line1", self.line1, LINE_MAX_LENGTH)
        if self.line2 is not None:
            _text("line2", self.line2, LINE_MAX_LENGTH)
        _text("city", self.city, CITY_MAX_LENGTH)
        _text("postal_code", self.postal_code, POSTAL_CODE_MAX_LENGTH)
        validate_country(self.country)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "postal_code": self.postal_code,
            "country": self.country,
        }


class Customer(TimestampedAggregate):
    """Someone who orders. Every state change records exactly one event."""

    def __init__(
        self,
        id: str,
        name: str,
        email: Email,
        billing_address: Address,
        shipping_address: Address,
        payment_account_id: str,
        loyalty_points: int = 0,
        version: int = 0,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> None:
        super().__init__(validate_id("customer", id), version, created_at, updated_at)
        self.name = validate_name(name)
        self.email = email
        self.billing_address = billing_address
        self.shipping_address = shipping_address
        self.payment_account_id = validate_id("account", payment_account_id)
        self.loyalty_points = validate_loyalty_points(loyalty_points)

    @classmethod
    def register(
        cls,
        id: str,
        name: str,
        email: Email,
        billing_address: Address,
        shipping_address: Address | None,
        payment_account_id: str,
    ) -> Customer:
        """A new customer; without a shipping address, orders go to the billing one."""
        shipping = shipping_address or billing_address
        customer = cls(id, name, email, billing_address, shipping, payment_account_id)
        customer.record(
            CustomerRegistered(
                aggregate_id=id,
                aggregate_version=1,
                customer_name=name,
                email=email.address,
                payment_account_id=payment_account_id,
                billing_address=billing_address.as_dict(),
                shipping_address=shipping.as_dict(),
            )
        )
        return customer

    def award_loyalty_points(self, order_id: str, points: int) -> None:
        """Add ``points`` for the order ``order_id`` (the award for a confirmed order)."""
        order_id = validate_id("order", order_id)
        total = validate_loyalty_points(self.loyalty_points + validate_award(points))
        self.loyalty_points = total
        self.record(
            LoyaltyPointsAwarded(
                aggregate_id=self.id,
                aggregate_version=self.next_version,
                order_id=order_id,
                points=points,
                loyalty_points=total,
            )
        )
