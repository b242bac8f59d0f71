"""``worker accounts``: read the current state of accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from worker.cli.common import (
    fail,
    load_settings,
    open_database,
    print_json,
    run_async,
    valid_id,
)
from worker.cli.errors import DATABASE_ERRORS, MIGRATE_HINT, database_failure
from worker.config import Settings
from worker.contexts.accounts.persistence import AccountRow, account_to_domain
from worker.persistence import database

accounts_app = typer.Typer(help="Read accounts.", no_args_is_help=True)


def account_json(row: AccountRow) -> dict[str, Any]:
    account = account_to_domain(row)
    return {
        "account_id": account.id,
        "owner": account.owner,
        "currency": str(account.currency),
        "balance": account.balance.to_string(),
        "status": account.status.value,
        "version": account.version,
    }


async def _query(settings: Settings, account_id: str | None) -> list[dict[str, Any]]:
    try:
        await open_database(settings)
        query = AccountRow.all() if account_id is None else AccountRow.filter(id=account_id)
        return [account_json(row) for row in await query.order_by("id")]
    finally:
        await database.close()


def _read(account_id: str | None) -> list[dict[str, Any]]:
    """The accounts (all, or the one), or one line saying why the database cannot tell."""
    settings = load_settings()
    path = settings.sqlite_path
    # Reading never creates the file (nor its directory), as connecting would.
    if path is not None and path != ":memory:" and not Path(path).exists():
        fail(f"the database file {path} does not exist: {MIGRATE_HINT}")
    try:
        return run_async(_query(settings, account_id))
    except DATABASE_ERRORS as error:
        raise database_failure(error, settings.database_url) from error


def _line(account: dict[str, Any]) -> str:
    return (
        f"{account['account_id']:<20} {account['balance']:>18} {account['currency']}  "
        f"{account['status']:<7} v{account['version']}  {account['owner']}"
    )


@accounts_app.command("show")
def show(
    account_id: str = typer.Argument(..., metavar="ACCOUNT_ID", callback=valid_id("account")),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one account."""
    found = _read(account_id)
    if not found:
        fail(f"no account {account_id!r}")
    print_json(found[0]) if as_json else typer.echo(_line(found[0]))


@accounts_app.command("list")
def list_accounts(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List all accounts."""
    found = _read(None)
    if as_json:
        print_json(found)
    else:
        for account in found:
            typer.echo(_line(account))
