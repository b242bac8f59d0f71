"""Accounts: open, deposit, withdraw, freeze, unfreeze and close an account; each
account's statement (the ``account_statement`` projection)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.accounts import events
from worker.context import BoundedContext
from worker.contexts.accounts.handlers import HANDLERS
from worker.contexts.accounts.persistence import ACCOUNTS
from worker.contexts.accounts.published import AccountDirectory
from worker.contexts.accounts.resources import RESOURCES
from worker.contexts.accounts.statement import ACCOUNT_STATEMENT

if TYPE_CHECKING:
    import typer


def _cli() -> typer.Typer:
    """Imported on demand: the worker itself never needs its CLI."""
    from worker.contexts.accounts.cli import accounts_app

    return accounts_app


CONTEXT = BoundedContext(
    name="accounts",
    handlers=HANDLERS,
    aggregates=(ACCOUNTS,),
    events=(
        events.AccountOpened,
        events.MoneyDeposited,
        events.MoneyWithdrawn,
        events.AccountFrozen,
        events.AccountUnfrozen,
        events.AccountClosed,
    ),
    models="worker.contexts.accounts.persistence",
    migrations="worker.contexts.accounts.migrations",
    read_ports={AccountDirectory: AccountDirectory},
    cli=_cli,
    subscriptions=(ACCOUNT_STATEMENT,),
    resources=RESOURCES,
)
