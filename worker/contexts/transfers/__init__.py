"""Transfers: move money between two accounts, as a saga of the accounts' own commands."""

from __future__ import annotations

from domain.transfers import transfer
from worker.context import BoundedContext
from worker.contexts.transfers.checks_money import MONEY_CHECK
from worker.contexts.transfers.handlers import HANDLERS
from worker.contexts.transfers.persistence import TRANSFERS
from worker.contexts.transfers.saga import TRANSFER_SAGA

CONTEXT = BoundedContext(
    name="transfers",
    handlers=HANDLERS,
    aggregates=(TRANSFERS,),
    events=(
        transfer.TransferRequested,
        transfer.TransferCompleted,
        transfer.TransferRejected,
        transfer.TransferCompensated,
        transfer.TransferNeedsOperator,
        transfer.TransferResolved,
        transfer.TransferConflicted,
    ),
    sagas=(TRANSFER_SAGA,),
    checks=(MONEY_CHECK,),
    models="worker.contexts.transfers.persistence",
    migrations="worker.contexts.transfers.migrations",
)
