"""Accounts: open, deposit, withdraw, freeze, unfreeze and close an account."""

from __future__ import annotations

from domain.accounts import events
from worker.context import BoundedContext
from worker.contexts.accounts.handlers import HANDLERS
from worker.contexts.accounts.persistence import ACCOUNTS


def _cli():  # type: ignore[no-untyped-def]
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
    cli=_cli,
)
