"""Command handlers (application services): load one aggregate, call it, done.

Handlers raise domain errors; they never commit. The bus commits the unit of work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from domain.accounts import Account
from domain.errors import AccountAlreadyExists, AccountNotFound
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


COMMAND_HANDLERS: dict[type[commands.Command], Handler] = {
    commands.OpenAccount: open_account,
    commands.Deposit: deposit,
    commands.Withdraw: withdraw,
    commands.FreezeAccount: freeze_account,
    commands.UnfreezeAccount: unfreeze_account,
    commands.CloseAccount: close_account,
}
