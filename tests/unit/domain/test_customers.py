"""The Customer aggregate and its value objects: what a customer may be, and what it records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain.customers.customer import (
    NAME_MAX_LENGTH,
    Address,
    Customer,
    Email,
)
from domain.customers.errors import (
    CustomerAlreadyExists,
    CustomerNotFound,
    PaymentAccountNotFound,
)
from domain.customers.events import CustomerRegistered
from domain.shared.countries import COUNTRY_CODES
from domain.shared.errors import BusinessRuleViolation, InvalidValue

HOME = Address("Hauptstraße 1", "Berlin", "10115", "DE")
OFFICE = Address("1 Main Street", "Springfield", "12345", "US", line2="Suite 200")
ANN = Email("ann@example.com")


def register(shipping: Address | None = None) -> Customer:
    return Customer.register("cust-1", "Ann Example", ANN, HOME, shipping, "acc-1")


def test_there_are_the_249_assigned_country_codes_all_upper_case() -> None:
    assert len(COUNTRY_CODES) == 249
    assert {"DE", "US", "GB", "JP", "AX", "SS"} <= COUNTRY_CODES
    assert "XK" not in COUNTRY_CODES  # Kosovo's code is user-assigned, not ISO's
    assert all(len(code) == 2 and code.isupper() for code in COUNTRY_CODES)


@pytest.mark.parametrize(
    "address",
    ["ann@example.com", "a.b+tag@mail.example.co.uk", "x@y.z", f"{'a' * 240}@example.com"],
)
def test_a_plausible_email_address_is_taken_as_given(address: str) -> None:
    assert Email(address).address == address


@pytest.mark.parametrize(
    "address",
    [
        "",
        "ann",
        "ann@example",  # no dot in the domain
        "ann@@example.com",
        "ann@exa@mple.com",
        "ann @example.com",
        "ann@example .com",
        "@example.com",
        "ann@.com",
        "ann@example.",
        f"{'a' * 243}@example.com",  # 255 characters
    ],
)
def test_anything_else_is_not_an_email_address(address: str) -> None:
    with pytest.raises(InvalidValue):
        Email(address)


def test_an_address_without_a_second_line_has_it_none_in_its_dict() -> None:
    assert HOME.as_dict() == {
        "line1": "Hauptstraße 1",
        "line2": None,
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    }
    assert OFFICE.as_dict()["line2"] == "Suite 200"


@pytest.mark.parametrize(
    "fields",
    [
        {"country": "de"},  # codes are upper case
        {"country": "XX"},
        {"country": "DEU"},
        {"line1": " "},
        {"line1": "x" * 201},
        {"line2": ""},
        {"city": ""},
        {"city": "x" * 101},
        {"postal_code": "\t"},
        {"postal_code": "1" * 21},
    ],
)
def test_an_address_needs_its_lines_within_bounds_and_a_known_country(
    fields: dict[str, str],
) -> None:
    with pytest.raises(InvalidValue):
        replace(HOME, **fields)


def test_an_address_at_its_length_limits_is_allowed() -> None:
    Address("x" * 200, "c" * 100, "1" * 20, "FR", line2="y" * 200)


def test_a_registered_customer_records_customer_registered_with_both_addresses() -> None:
    customer = register(OFFICE)

    [event] = customer.pending_events
    assert isinstance(event, CustomerRegistered)
    assert type(event).type_name() == "customers.CustomerRegistered"
    assert event.aggregate_version == 1
    assert event.payload() == {
        "customer_id": "cust-1",
        "name": "Ann Example",
        "email": "ann@example.com",
        "payment_account_id": "acc-1",
        "billing_address": HOME.as_dict(),
        "shipping_address": OFFICE.as_dict(),
    }
    assert (customer.billing_address, customer.shipping_address) == (HOME, OFFICE)
    assert (customer.loyalty_points, customer.version) == (0, 0)


def test_without_a_shipping_address_orders_go_to_the_billing_address() -> None:
    customer = register()

    assert customer.shipping_address == HOME
    [event] = customer.pending_events
    assert event.payload()["shipping_address"] == HOME.as_dict()


def test_an_event_keeps_its_class_name_beside_the_customers_name() -> None:
    [event] = register().pending_events
    assert event.name() == "CustomerRegistered"


def test_a_new_customer_was_created_and_updated_when_it_registered() -> None:
    customer = register()
    [event] = customer.pending_events

    assert customer.created_at == customer.updated_at == event.occurred_at
    customer.collect_events()
    assert customer.version == 1


def test_a_loaded_customer_keeps_its_times_and_version() -> None:
    created = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    updated = datetime(2024, 6, 1, tzinfo=UTC)
    customer = Customer("cust-1", "Ann", ANN, HOME, OFFICE, "acc-1", 7, 3, created, updated)

    assert (customer.loyalty_points, customer.version) == (7, 3)
    assert (customer.created_at, customer.updated_at) == (created, updated)
    assert customer.pending_events == []


@pytest.mark.parametrize("name", ["", " ", "\n\t", "x" * (NAME_MAX_LENGTH + 1)])
def test_a_customer_needs_a_name_of_1_to_200_characters_not_blank(name: str) -> None:
    with pytest.raises(InvalidValue):
        Customer.register("cust-1", name, ANN, HOME, None, "acc-1")


def test_a_name_of_200_characters_is_allowed() -> None:
    long = "x" * NAME_MAX_LENGTH
    assert Customer.register("cust-1", long, ANN, HOME, None, "acc-1").name == long


@pytest.mark.parametrize(
    ("customer_id", "account_id"), [("a/b", "acc-1"), ("", "acc-1"), ("cust-1", "acc 1")]
)
def test_the_customer_and_its_account_need_valid_ids(customer_id: str, account_id: str) -> None:
    with pytest.raises(InvalidValue):
        Customer.register(customer_id, "Ann", ANN, HOME, None, account_id)


@pytest.mark.parametrize("points", [-1, True, 1.5])
def test_loyalty_points_are_a_whole_number_never_negative(points: object) -> None:
    with pytest.raises(InvalidValue):
        Customer("cust-1", "Ann", ANN, HOME, HOME, "acc-1", points)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (CustomerNotFound, "customer_not_found"),
        (CustomerAlreadyExists, "customer_already_exists"),
        (PaymentAccountNotFound, "account_not_found"),
    ],
)
def test_each_refusal_is_a_business_rule_with_its_code(
    error: type[BusinessRuleViolation], code: str
) -> None:
    assert issubclass(error, BusinessRuleViolation)
    assert error.code == code
