"""How a Transfer is stored: its row, and the translation both ways."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.shared.money import Money
from domain.transfers.transfer import Transfer, TransferState
from worker.persistence.store import AggregateStore


class TransferRow(Model):
    id = fields.CharField(pk=True, max_length=64)
    from_account_id = fields.CharField(max_length=64)
    to_account_id = fields.CharField(max_length=64)
    amount = fields.DecimalField(max_digits=24, decimal_places=4)
    currency = fields.CharField(max_length=3)
    state = fields.CharField(max_length=16, db_index=True)
    reason = fields.TextField(default="")
    version = fields.IntField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "transfers"


#: The module's tables, registered in the context's tortoise app (imported classes are not).
__models__ = [TransferRow]


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


TRANSFERS = AggregateStore.flat(Transfer, TransferRow, transfer_to_domain, transfer_fields)
