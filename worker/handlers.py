"""Command handlers (application services): load one aggregate, call it, done.

Handlers raise domain errors; they never commit. The bus commits the unit of work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from domain.accounts import Account
from domain.errors import AccountAlreadyExists, AccountNotFound, TransferNotFound
from domain.transfers import Transfer, TransferState
from worker import commands
from worker.unit_of_work import UnitOfWork

Handler = Callable[[Any, UnitOfWork], Awaitable[None]]


async def _load(uow: UnitOfWork, account_id: str) -> Account:
    account = await uow.accounts.get(account_id)
    if account is None:
        raise AccountNotFound(f"account {account_id} does not exist")
    return account


async def open_account(cmd: commands.OpenAccount, uow: UnitOfWork) -> None:
    if await uow.accounts.get(cmd.account_id) is not None:
        raise AccountAlreadyExists(f"account {cmd.account_id} already exists")
    uow.accounts.add(Account.open(cmd.account_id, cmd.owner, cmd.currency))


async def deposit(cmd: commands.Deposit, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.account_id)).deposit(cmd.money)


async def withdraw(cmd: commands.Withdraw, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.account_id)).withdraw(cmd.money)


async def freeze_account(cmd: commands.FreezeAccount, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.account_id)).freeze()


async def unfreeze_account(cmd: commands.UnfreezeAccount, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.account_id)).unfreeze()


async def close_account(cmd: commands.CloseAccount, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.account_id)).close()


async def transfer_money(cmd: commands.TransferMoney, uow: UnitOfWork) -> None:
    """Record the request; its TransferRequested event starts the saga (from the outbox)."""
    existing = await uow.transfers.get(cmd.transfer_id)
    if existing is not None:
        existing.require_same_request(cmd.from_account_id, cmd.to_account_id, cmd.money)
        return
    uow.transfers.add(
        Transfer.request(cmd.transfer_id, cmd.from_account_id, cmd.to_account_id, cmd.money)
    )


async def record_transfer_outcome(cmd: commands.RecordTransferOutcome, uow: UnitOfWork) -> None:
    transfer = await uow.transfers.get(cmd.transfer_id)
    if transfer is None:
        raise TransferNotFound(f"transfer {cmd.transfer_id} does not exist")
    transfer.end(TransferState(cmd.state), cmd.reason)


COMMAND_HANDLERS: dict[type[commands.Command], Handler] = {
    commands.OpenAccount: open_account,
    commands.Deposit: deposit,
    commands.Withdraw: withdraw,
    commands.FreezeAccount: freeze_account,
    commands.UnfreezeAccount: unfreeze_account,
    commands.CloseAccount: close_account,
    commands.TransferMoney: transfer_money,
    commands.RecordTransferOutcome: record_transfer_outcome,
}
