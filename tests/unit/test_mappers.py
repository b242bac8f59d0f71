"""Mappers between Account aggregates / domain events and their tortoise rows.

The rows are built in memory: tortoise model instances need no database connection.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest

from domain.accounts.account import (
    Account,
    AccountClosed,
    AccountFrozen,
    AccountOpened,
    AccountStatus,
    AccountUnfrozen,
    MoneyDeposited,
    MoneyWithdrawn,
)
from domain.shared.model import DomainEvent
from domain.shared.money import Money
from worker.bus.unit_of_work import MessageContext
from worker.contexts.accounts.persistence import AccountRow, account_fields, account_to_domain
from worker.persistence.models import OutboxRow
from worker.persistence.outbox import outbox_columns


def outbox_row(event: DomainEvent, context: MessageContext) -> OutboxRow:
    """The row the unit of work inserts for an event, as the ORM reads it back."""
    return OutboxRow(**outbox_columns(event, context))


def row_for(account: Account) -> AccountRow:
    return AccountRow(id=account.id, version=account.version, **account_fields(account))


def assert_same_account(actual: Account, expected: Account) -> None:
    assert actual.id == expected.id
    assert actual.owner == expected.owner
    assert actual.balance == expected.balance
    assert actual.currency == expected.currency
    assert actual.status is expected.status
    assert actual.version == expected.version
    assert actual.pending_events == []


def test_a_fully_populated_account_survives_a_round_trip_through_its_row() -> None:
    account = Account(
        id="acc-7",
        owner="Grace Hopper",
        balance=Money.of("1234.56", "EUR"),
        status=AccountStatus.FROZEN,
        version=7,
    )

    row = row_for(account)
    back = account_to_domain(row)

    assert (row.id, row.owner, row.currency, row.status, row.version) == (
        "acc-7",
        "Grace Hopper",
        "EUR",
        "frozen",
        7,
    )
    assert Decimal(row.balance) == Decimal("1234.56")
    assert_same_account(back, account)
    assert back == account


@pytest.mark.parametrize(
    ("balance", "currency", "status"),
    [
        ("0", "EUR", AccountStatus.OPEN),
        ("0.01", "USD", AccountStatus.OPEN),
        ("1500", "JPY", AccountStatus.FROZEN),
        ("0", "KRW", AccountStatus.CLOSED),
        ("999999999999999.99", "GBP", AccountStatus.OPEN),
    ],
)
def test_accounts_in_every_status_and_precision_round_trip(
    balance: str, currency: str, status: AccountStatus
) -> None:
    account = Account("acc-x", "Ünïcödé Owner ✓", Money.of(balance, currency), status, 42)

    assert_same_account(account_to_domain(row_for(account)), account)


def test_a_balance_read_back_with_the_columns_four_decimals_is_the_same_money() -> None:
    row = AccountRow(
        id="acc-1",
        owner="Ada",
        currency="EUR",
        balance=Decimal("12.3400"),
        status="open",
        version=3,
    )

    account = account_to_domain(row)

    assert account.balance == Money.of("12.34", "EUR")
    assert account.balance.to_string() == "12.34"


def test_account_fields_are_the_columns_without_id_and_version() -> None:
    account = Account("acc-1", "Ada", Money.of("5.00", "CHF"), AccountStatus.OPEN, 2)

    assert account_fields(account) == {
        "owner": "Ada",
        "currency": "CHF",
        "balance": Decimal("5.00"),
        "status": "open",
    }


def test_an_event_becomes_an_outbox_row_with_its_type_aggregate_and_message_context() -> None:
    event = MoneyDeposited(
        aggregate_id="acc-7",
        aggregate_version=8,
        amount="10.00",
        currency="EUR",
        balance="1244.56",
    )
    context = MessageContext("msg-9", "Deposit", "corr-3")

    row = outbox_row(event, context)

    assert row.event_id == event.event_id
    assert row.event_type == "accounts.MoneyDeposited"
    assert row.aggregate_type == "accounts"
    assert (row.aggregate_id, row.aggregate_version) == ("acc-7", 8)
    assert row.causation_id == "msg-9"
    assert row.correlation_id == "corr-3"
    assert row.sent_at is None
    payload = json.loads(row.payload)
    assert payload == {
        "account_id": "acc-7",
        "amount": "10.00",
        "currency": "EUR",
        "balance": "1244.56",
        "occurred_at": event.occurred_at.isoformat(),
    }
    assert datetime.fromisoformat(payload["occurred_at"]) == event.occurred_at
    assert datetime.fromisoformat(payload["occurred_at"]).tzinfo is not None


def test_an_event_without_a_correlation_id_gets_a_null_one() -> None:
    event = AccountFrozen(aggregate_id="acc-1", aggregate_version=2)

    row = outbox_row(event, MessageContext("msg-1", "FreezeAccount"))

    assert row.correlation_id is None
    assert row.causation_id == "msg-1"
    assert json.loads(row.payload) == {
        "account_id": "acc-1",
        "occurred_at": event.occurred_at.isoformat(),
    }


@pytest.mark.parametrize(
    "event",
    [
        AccountOpened(aggregate_id="a", aggregate_version=1, owner="Ada", currency="EUR"),
        MoneyDeposited(
            aggregate_id="a", aggregate_version=2, amount="1.00", currency="EUR", balance="1.00"
        ),
        MoneyWithdrawn(
            aggregate_id="a", aggregate_version=3, amount="1.00", currency="EUR", balance="0.00"
        ),
        AccountFrozen(aggregate_id="a", aggregate_version=4),
        AccountUnfrozen(aggregate_id="a", aggregate_version=5),
        AccountClosed(aggregate_id="a", aggregate_version=6),
    ],
    ids=lambda event: type(event).__name__,
)
def test_every_account_event_maps_to_a_namespaced_type_and_a_compact_json_payload(
    event: DomainEvent,
) -> None:
    row = outbox_row(event, MessageContext("m", "X", "c"))

    assert row.event_type == event.type_name() == f"accounts.{type(event).__name__}"
    assert row.aggregate_version == event.aggregate_version
    payload = json.loads(row.payload)
    assert row.payload == json.dumps(payload, separators=(",", ":"))
    assert payload["account_id"] == "a"
    assert "event_id" not in payload
    assert "aggregate_version" not in payload
    assert "aggregate_id" not in payload


def test_events_from_the_aggregate_map_straight_into_outbox_rows() -> None:
    account = Account.open("acc-9", "Ada", "EUR")
    account.deposit(Money.of("3.50", "EUR"))
    events = account.collect_events()

    rows = [outbox_row(e, MessageContext("msg-1", "Deposit", "corr")) for e in events]

    assert [r.event_type for r in rows] == ["accounts.AccountOpened", "accounts.MoneyDeposited"]
    assert [r.aggregate_version for r in rows] == [1, 2]
    assert json.loads(rows[1].payload)["balance"] == "3.50"
    assert_same_account(account_to_domain(row_for(account)), account)
