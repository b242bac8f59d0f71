"""The command contract: parse_command accepts exactly the documented shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.accounts.account import OWNER_MAX_LENGTH
from domain.shared.money import Money
from tests.wiring import COMMANDS as REGISTRY
from worker.bus.commands import InvalidCommand
from worker.contexts.accounts.commands import (
    CloseAccount,
    Deposit,
    FreezeAccount,
    OpenAccount,
    UnfreezeAccount,
    Withdraw,
)

COMMANDS = REGISTRY.all
parse_command = REGISTRY.parse
json_schemas = REGISTRY.json_schemas
commands_for_queue = REGISTRY.for_queue

ALL_COMMANDS = [
    "OpenAccount",
    "Deposit",
    "Withdraw",
    "FreezeAccount",
    "UnfreezeAccount",
    "CloseAccount",
]
MONEY_COMMANDS = ["Deposit", "Withdraw"]
ACCOUNT_ONLY_COMMANDS = ["FreezeAccount", "UnfreezeAccount", "CloseAccount"]

VALID: dict[str, dict[str, Any]] = {
    "OpenAccount": {"account_id": "acc-1", "owner": "Ada Lovelace", "currency": "EUR"},
    "Deposit": {"account_id": "acc-1", "amount": "10.50", "currency": "EUR"},
    "Withdraw": {"account_id": "acc-1", "amount": "10.50", "currency": "EUR"},
    "FreezeAccount": {"account_id": "acc-1"},
    "UnfreezeAccount": {"account_id": "acc-1"},
    "CloseAccount": {"account_id": "acc-1"},
}


def valid(name: str, **changes: Any) -> dict[str, Any]:
    return {**VALID[name], **changes}


def without(name: str, field: str) -> dict[str, Any]:
    return {k: v for k, v in VALID[name].items() if k != field}


def schema_error(name: str, data: object) -> InvalidCommand:
    with pytest.raises(InvalidCommand) as raised:
        parse_command(name, data)
    assert raised.value.code == "schema_validation_failed"
    assert raised.value.message == str(raised.value)
    return raised.value


# --- valid input --------------------------------------------------------------


def test_a_valid_open_account_parses_into_the_command() -> None:
    command = parse_command("OpenAccount", VALID["OpenAccount"])

    assert command == OpenAccount(account_id="acc-1", owner="Ada Lovelace", currency="EUR")
    assert command.aggregate_id == "acc-1"


@pytest.mark.parametrize(("name", "model"), [("Deposit", Deposit), ("Withdraw", Withdraw)])
def test_a_valid_money_command_parses_with_exact_money(name: str, model: type) -> None:
    command = parse_command(name, VALID[name])

    assert type(command) is model
    assert command == model(account_id="acc-1", amount="10.50", currency="EUR")
    assert command.money == Money(Decimal("10.50"), Money.zero("EUR").currency)
    assert command.aggregate_id == "acc-1"


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("FreezeAccount", FreezeAccount),
        ("UnfreezeAccount", UnfreezeAccount),
        ("CloseAccount", CloseAccount),
    ],
)
def test_a_valid_account_command_parses_with_just_the_account_id(name: str, model: type) -> None:
    command = parse_command(name, VALID[name])

    assert command == model(account_id="acc-1")
    assert command.aggregate_id == "acc-1"


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("1", "EUR"),
        ("0.01", "EUR"),
        ("10.5", "EUR"),
        ("10.50", "EUR"),
        ("10.500", "EUR"),  # trailing zeros add no precision
        ("999999999999999.99", "EUR"),
        ("1000", "JPY"),
        ("1000.0", "JPY"),
        ("5", "KRW"),
    ],
)
@pytest.mark.parametrize("name", MONEY_COMMANDS)
def test_amounts_within_the_currencys_precision_and_range_are_accepted(
    name: str, amount: str, currency: str
) -> None:
    command = parse_command(name, valid(name, amount=amount, currency=currency))

    assert isinstance(command, Deposit | Withdraw)
    assert command.money.amount == Decimal(amount)


@pytest.mark.parametrize("account_id", ["a", "acc-1", "A.b_c-9", "x" * 64])
def test_account_ids_matching_the_pattern_are_accepted(account_id: str) -> None:
    assert parse_command("FreezeAccount", {"account_id": account_id}).aggregate_id == account_id


def test_an_owner_of_exactly_the_maximum_length_is_accepted() -> None:
    owner = "x" * OWNER_MAX_LENGTH

    command = parse_command("OpenAccount", valid("OpenAccount", owner=owner))

    assert isinstance(command, OpenAccount)
    assert command.owner == owner


def test_commands_are_immutable() -> None:
    command = parse_command("Deposit", VALID["Deposit"])

    with pytest.raises(ValueError, match="frozen"):
        command.amount = "99.00"  # type: ignore[misc]


# --- wrong types ----------------------------------------------------------------


@pytest.mark.parametrize("amount", [10.5, 10, Decimal("10.50"), True, None, ["10"]])
@pytest.mark.parametrize("name", MONEY_COMMANDS)
def test_an_amount_that_is_not_a_string_is_invalid(name: str, amount: object) -> None:
    error = schema_error(name, valid(name, amount=amount))

    assert "amount" in error.message


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("OpenAccount", "account_id", 42),
        ("OpenAccount", "owner", 42),
        ("OpenAccount", "owner", None),
        ("OpenAccount", "currency", ["EUR"]),
        ("Deposit", "account_id", None),
        ("Deposit", "currency", 978),
        ("Withdraw", "account_id", {"id": "acc-1"}),
        ("FreezeAccount", "account_id", 1),
        ("UnfreezeAccount", "account_id", True),
        ("CloseAccount", "account_id", 1.0),
    ],
)
def test_a_field_of_the_wrong_type_is_invalid_and_named(name: str, field: str, value: Any) -> None:
    error = schema_error(name, valid(name, **{field: value}))

    assert field in error.message


# --- missing and extra fields ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "field"),
    [(name, field) for name in ALL_COMMANDS for field in VALID[name]],
)
def test_a_missing_field_is_invalid_and_named(name: str, field: str) -> None:
    error = schema_error(name, without(name, field))

    assert field in error.message
    assert name in error.message


@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_an_empty_body_is_invalid(name: str) -> None:
    error = schema_error(name, {})

    assert "account_id" in error.message


@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_an_extra_field_is_invalid_and_named(name: str) -> None:
    error = schema_error(name, valid(name, surprise="!"))

    assert "surprise" in error.message


def test_a_field_of_another_command_is_an_extra_field() -> None:
    error = schema_error("FreezeAccount", valid("FreezeAccount", amount="1.00"))

    assert "amount" in error.message


# --- amounts ---------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["-1", "-0.01", "-10.50"])
@pytest.mark.parametrize("name", MONEY_COMMANDS)
def test_a_negative_amount_is_invalid(name: str, amount: str) -> None:
    error = schema_error(name, valid(name, amount=amount))

    assert "amount" in error.message


@pytest.mark.parametrize("amount", ["0", "0.00", "0.0"])
@pytest.mark.parametrize("name", MONEY_COMMANDS)
def test_a_zero_amount_is_invalid(name: str, amount: str) -> None:
    error = schema_error(name, valid(name, amount=amount))

    assert "amount" in error.message
    assert "positive" in error.message


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("10.123", "EUR"),
        ("0.001", "USD"),
        ("10.5", "JPY"),
        ("1.01", "KRW"),
    ],
)
@pytest.mark.parametrize("name", MONEY_COMMANDS)
def test_more_decimals_than_the_currency_has_is_invalid(
    name: str, amount: str, currency: str
) -> None:
    error = schema_error(name, valid(name, amount=amount, currency=currency))

    assert currency in error.message
    assert "decimal places" in error.message


@pytest.mark.parametrize("name", MONEY_COMMANDS)
def test_an_amount_with_too_many_decimals_names_the_amount_field(name: str) -> None:
    error = schema_error(name, valid(name, amount="10.123", currency="EUR"))

    assert "amount:" in error.message


@pytest.mark.parametrize(
    "amount",
    [
        "1000000000000000",  # 1e15: beyond the maximum
        "9999999999999999999999",
        "1" + "0" * 400,
        "1e15",
        "1E3",
        "Infinity",
        "NaN",
    ],
)
@pytest.mark.parametrize("name", MONEY_COMMANDS)
def test_a_huge_or_non_decimal_amount_is_invalid(name: str, amount: str) -> None:
    error = schema_error(name, valid(name, amount=amount))

    assert "amount" in error.message


@pytest.mark.parametrize(
    "amount", ["", " 10", "10 ", "10,50", "+10", ".5", "5.", "1.123456789", "ten", "0x10", "1_000"]
)
@pytest.mark.parametrize("name", MONEY_COMMANDS)
def test_an_amount_that_is_not_a_plain_decimal_string_is_invalid(name: str, amount: str) -> None:
    error = schema_error(name, valid(name, amount=amount))

    assert "amount" in error.message


# --- currencies ---------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["XYZ", "BTC", "ZZZ"])
@pytest.mark.parametrize("name", ["OpenAccount", *MONEY_COMMANDS])
def test_an_unknown_currency_is_invalid(name: str, currency: str) -> None:
    error = schema_error(name, valid(name, currency=currency))

    assert "currency" in error.message
    assert currency in error.message


@pytest.mark.parametrize("currency", ["eur", "EURO", "EU", "", "E1R"])
@pytest.mark.parametrize("name", ["OpenAccount", *MONEY_COMMANDS])
def test_a_currency_that_is_not_three_capital_letters_is_invalid(name: str, currency: str) -> None:
    error = schema_error(name, valid(name, currency=currency))

    assert "currency" in error.message


# --- account ids and owners -----------------------------------------------------------


@pytest.mark.parametrize(
    "account_id",
    ["", "-starts-with-dash", "has space", "slash/inside", "ümlaut", "x" * 65, "acc-1\n"],
)
@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_an_account_id_not_matching_the_pattern_is_invalid(name: str, account_id: str) -> None:
    error = schema_error(name, valid(name, account_id=account_id))

    assert "account_id" in error.message


@pytest.mark.parametrize("owner", ["", " ", "   ", "\t\n"])
def test_an_empty_or_blank_owner_is_invalid(owner: str) -> None:
    error = schema_error("OpenAccount", valid("OpenAccount", owner=owner))

    assert "owner" in error.message


def test_an_owner_longer_than_the_maximum_is_invalid() -> None:
    error = schema_error("OpenAccount", valid("OpenAccount", owner="x" * (OWNER_MAX_LENGTH + 1)))

    assert "owner" in error.message
    assert str(OWNER_MAX_LENGTH) in error.message


# --- the body and the name ---------------------------------------------------------------


@pytest.mark.parametrize("body", [[], ["acc-1"], "acc-1", '{"account_id": "acc-1"}', 42, None])
@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_a_body_that_is_not_an_object_is_invalid(name: str, body: object) -> None:
    error = schema_error(name, body)

    assert "object" in error.message


@pytest.mark.parametrize("name", ["Transfer", "deposit", "", "Command", "AccountCommand"])
def test_an_unknown_command_name_is_refused_with_unknown_command(name: str) -> None:
    with pytest.raises(InvalidCommand) as raised:
        parse_command(name, {"account_id": "acc-1"})

    assert raised.value.code == "unknown_command"
    assert repr(name) in raised.value.message
    for known in ALL_COMMANDS:
        assert known in raised.value.message


def test_an_unknown_command_is_reported_before_looking_at_the_body() -> None:
    with pytest.raises(InvalidCommand) as raised:
        parse_command("Transfer", "not even an object")

    assert raised.value.code == "unknown_command"


# --- the published contract ---------------------------------------------------------------


def test_every_command_is_registered_under_its_class_name() -> None:
    accounts = [n for n in COMMANDS if REGISTRY.queue_of(n) == "accounts.commands"]
    assert sorted(accounts) == sorted(ALL_COMMANDS)
    assert all(model.name() == name for name, model in COMMANDS.items())


def test_json_schemas_has_an_object_schema_for_each_command() -> None:
    schemas = {name: s for name, s in json_schemas().items() if name in ALL_COMMANDS}

    assert sorted(schemas) == sorted(ALL_COMMANDS)
    for name, schema in schemas.items():
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) == set(VALID[name])


def test_the_money_schemas_describe_amounts_as_strings_and_list_the_currencies() -> None:
    for name in MONEY_COMMANDS:
        properties = json_schemas()[name]["properties"]
        assert properties["amount"]["type"] == "string"
        assert "EUR" in properties["currency"]["enum"]
        assert "JPY" in properties["currency"]["enum"]


def test_the_accounts_queue_carries_all_six_commands() -> None:
    assert sorted(commands_for_queue("accounts.commands")) == sorted(ALL_COMMANDS)


def test_an_unknown_queue_carries_no_commands() -> None:
    assert commands_for_queue("nobody.listens") == []


def test_an_unknown_command_with_a_huge_name_is_named_without_all_of_it() -> None:
    with pytest.raises(InvalidCommand) as caught:
        parse_command("X" * 5000, {})
    assert caught.value.code == "unknown_command"
    assert "(5000 characters)" in caught.value.message
    known = ", ".join(sorted(REGISTRY.public))
    assert len(caught.value.message) < 200 + len(known)
