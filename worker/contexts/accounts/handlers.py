"""The accounts context's command handlers: load one account, call it, done.

Handlers raise domain errors; they never commit. The bus commits the unit of work.
"""

from __future__ import annotations

from domain.accounts.account import Account
from domain.accounts.errors import AccountAlreadyExists, AccountNotFound
from domain.accounts.ports import AccountRepository
from worker.bus.commands import Command
from worker.bus.messagebus import Handler
from worker.bus.unit_of_work import UnitOfWork
from worker.contexts.accounts import commands


def accounts(uow: UnitOfWork) -> AccountRepository:
    return uow.repository(Account)


async def _load(uow: UnitOfWork, account_id: str) -> Account:
    account = await accounts(uow).get(account_id)
    if account is None:
        raise AccountNotFound(f"account {account_id} does not exist")
    return account


async def open_account(cmd: commands.OpenAccount, uow: UnitOfWork) -> None:
    if await accounts(uow).get(cmd.account_id) is not None:
        raise AccountAlreadyExists(f"account {cmd.account_id} already exists")
    accounts(uow).add(Account.open(cmd.account_id, cmd.owner, cmd.currency))


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


HANDLERS: dict[type[Command], Handler] = {
    commands.OpenAccount: open_account,
    commands.Deposit: deposit,
    commands.Withdraw: withdraw,
    commands.FreezeAccount: freeze_account,
    commands.UnfreezeAccount: unfreeze_account,
    commands.CloseAccount: close_account,
}
