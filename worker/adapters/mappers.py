"""Translate between Account aggregates and their rows, both ways."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from domain.accounts import Account, AccountStatus
from domain.money import Money
from domain.shared import DomainEvent
from domain.transfers import Transfer, TransferState
from worker.adapters.orm import AccountRow, TransferRow
from worker.unit_of_work import MessageContext


def account_to_domain(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        owner=row.owner,
        balance=Money.of(Decimal(row.balance), row.currency),
        status=AccountStatus(row.status),
        version=row.version,
    )


def account_fields(account: Account) -> dict[str, Any]:
    """The row's columns for an aggregate, version excluded (the repository sets it)."""
    return {
        "owner": account.owner,
        "currency": str(account.currency),
        "balance": account.balance.amount,
        "status": account.status.value,
    }


def transfer_to_domain(row: TransferRow) -> Transfer:
    return Transfer(
        id=row.id,
        from_account_id=row.from_account_id,
        to_account_id=row.to_account_id,
        amount=Money.of(Decimal(row.amount), row.currency),
        state=TransferState(row.state),
        reason=row.reason,
        version=row.version,
    )


def transfer_fields(transfer: Transfer) -> dict[str, Any]:
    return {
        "from_account_id": transfer.from_account_id,
        "to_account_id": transfer.to_account_id,
        "amount": transfer.amount.amount,
        "currency": str(transfer.amount.currency),
        "state": transfer.state.value,
        "reason": transfer.reason,
    }


def event_type(event: DomainEvent) -> str:
    return f"{event.aggregate_type}.{event.name()}"


def outbox_columns(event: DomainEvent, context: MessageContext) -> dict[str, Any]:
    """The outbox row of an event, as column values (inserted by hand on the hot path)."""
    body = {**event.payload(), "occurred_at": event.occurred_at.isoformat()}
    return {
        "event_id": event.event_id,
        "event_type": event_type(event),
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "aggregate_version": event.aggregate_version,
        "payload": json.dumps(body, separators=(",", ":"), default=str),
        "correlation_id": context.correlation_id,
        "causation_id": context.message_id,
        "created_at": event.occurred_at,
    }
