"""The tabs context's handlers: one tab per command; the guest's account through a read port."""

from __future__ import annotations

from domain.shared.errors import CurrencyMismatch
from domain.shared.ports import Repository
from tests.contexts.tabs import commands
from tests.contexts.tabs.domain import Tab, TabNotFound, TabStatus, UnknownAccount
from worker.bus.commands import Command
from worker.bus.messagebus import Handler
from worker.bus.unit_of_work import UnitOfWork
from worker.contexts.accounts.published import AccountDirectory


def tabs(uow: UnitOfWork) -> Repository[Tab]:
    return uow.repository(Tab)


async def _load(uow: UnitOfWork, tab_id: str) -> Tab:
    tab = await tabs(uow).get(tab_id)
    if tab is None:
        raise TabNotFound(f"tab {tab_id} does not exist")
    return tab


async def open_tab(cmd: commands.OpenTab, uow: UnitOfWork) -> None:
    if await tabs(uow).get(cmd.tab_id) is not None:
        return  # the same request again: nothing to do
    directory = uow.read_port(AccountDirectory)
    for account_id in (cmd.account_id, cmd.house_account_id):
        currency = await directory.currency_of(account_id)
        if currency is None:
            raise UnknownAccount(f"account {account_id} does not exist")
        if currency != cmd.currency:
            raise CurrencyMismatch(f"account {account_id} is in {currency}, not {cmd.currency}")
    tabs(uow).add(Tab.open(cmd.tab_id, cmd.account_id, cmd.house_account_id, cmd.currency))


async def add_to_tab(cmd: commands.AddToTab, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.tab_id)).add(cmd.item, cmd.quantity, cmd.money)


async def close_tab(cmd: commands.CloseTab, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.tab_id)).close()


async def record_tab_outcome(cmd: commands.RecordTabOutcome, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.tab_id)).settle(TabStatus(cmd.status), cmd.reason)


HANDLERS: dict[type[Command], Handler] = {
    commands.OpenTab: open_tab,
    commands.AddToTab: add_to_tab,
    commands.CloseTab: close_tab,
    commands.RecordTabOutcome: record_tab_outcome,
}
