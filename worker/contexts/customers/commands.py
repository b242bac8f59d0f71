"""What clients (and the loyalty policy) may ask of customers, on ``customers.commands``."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from domain.customers.customer import (
    CITY_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    LINE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    POSTAL_CODE_MAX_LENGTH,
    Address,
    Email,
    validate_country,
)
from domain.customers.loyalty import MAX_LOYALTY_POINTS
from domain.shared.countries import COUNTRY_CODES
from domain.shared.errors import InvalidValue
from worker.bus.commands import UNSTORABLE_TEXT, Command, EntityId

Line = Annotated[str, StringConstraints(min_length=1, max_length=LINE_MAX_LENGTH)]
City = Annotated[str, StringConstraints(min_length=1, max_length=CITY_MAX_LENGTH)]
PostalCode = Annotated[str, StringConstraints(min_length=1, max_length=POSTAL_CODE_MAX_LENGTH)]
Country = Annotated[str, Field(json_schema_extra={"enum": sorted(COUNTRY_CODES)})]


class AddressFields(BaseModel):
    """A postal address on the wire; ``country`` is an ISO 3166-1 alpha-2 code (``DE``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    line1: Line
    line2: Line | None = None
    city: City
    postal_code: PostalCode
    country: Country

    @field_validator("*")
    @classmethod
    def _storable_and_not_blank(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if unstorable := UNSTORABLE_TEXT.search(value):
            raise ValueError(f"contains {unstorable.group()!r}, which cannot be stored")
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("country")
    @classmethod
    def _known_country(cls, country: str) -> str:
        try:
            return validate_country(country)
        except InvalidValue as error:
            raise ValueError(str(error)) from None

    def to_domain(self) -> Address:
        return Address(self.line1, self.city, self.postal_code, self.country, self.line2)


class RegisterCustomer(Command):
    """Register a customer who pays with ``payment_account_id`` (which must exist)."""

    # ``customer_name`` is ``name`` on the wire, in and out: a field called ``name`` would
    # hide ``Command.name()`` (the routing key) on every instance.
    model_config = ConfigDict(serialize_by_alias=True)
    identity_fields: ClassVar[tuple[str, ...]] = ("customer_id",)

    customer_id: EntityId
    customer_name: Annotated[
        str, StringConstraints(min_length=1, max_length=NAME_MAX_LENGTH), Field(alias="name")
    ]
    email: Annotated[str, StringConstraints(min_length=3, max_length=EMAIL_MAX_LENGTH)]
    billing_address: AddressFields
    #: Without it, orders are shipped to the billing address.
    shipping_address: AddressFields | None = None
    payment_account_id: EntityId

    @field_validator("customer_name")
    @classmethod
    def _name_is_not_blank(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("name must not be blank")
        return name

    @field_validator("email")
    @classmethod
    def _an_email_address(cls, email: str) -> str:
        try:
            return Email(email).address
        except InvalidValue as error:
            raise ValueError(str(error)) from None

    @property
    def aggregate_id(self) -> str:
        return self.customer_id


class AwardLoyaltyPoints(Command):
    """Award ``points`` to ``customer_id`` for the confirmed order ``order_id``.

    Public, so that it goes through the inbox like any command, but issued by the
    ``award_loyalty_points`` policy alone: anyone else's is refused.
    """

    identity_fields: ClassVar[tuple[str, ...]] = ("customer_id", "order_id")
    issued_by: ClassVar[str | None] = "award_loyalty_points"

    customer_id: EntityId
    order_id: EntityId
    points: Annotated[int, Field(gt=0, le=MAX_LOYALTY_POINTS)]

    @property
    def aggregate_id(self) -> str:
        return self.customer_id
