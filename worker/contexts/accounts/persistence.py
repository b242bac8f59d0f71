"""How an Account is stored: its row, and the translation both ways."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.accounts.account import Account, AccountStatus
from domain.shared.money import Money
from worker.persistence.store import AggregateStore


class AccountRow(Model):
    id = fields.CharField(pk=True, max_length=64)
    owner = fields.CharField(max_length=200)
    currency = fields.CharField(max_length=3)
    balance = fields.DecimalField(max_digits=24, decimal_places=4)
    status = fields.CharField(max_length=16)
    version = fields.IntField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "accounts"


#: The module's tables, registered in the context's tortoise app (imported classes are not).
__models__ = [AccountRow]


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


ACCOUNTS = AggregateStore.flat(Account, AccountRow, account_to_domain, account_fields)
