"""``worker accounts``: read the current state of accounts."""

from __future__ import annotations

from typing import Any

import typer

from worker.cli.common import (
    fail,
    print_json,
    valid_id,
)
from worker.cli.reading import read_database
from worker.contexts.accounts.persistence import AccountRow, account_to_domain
from worker.contexts.accounts.statement import ACCOUNT_STATEMENT, statement_of
from worker.readside.read_model import open_read_model

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


async def read_accounts(account_id: str | None) -> list[dict[str, Any]]:
    query = AccountRow.all() if account_id is None else AccountRow.filter(id=account_id)
    return [account_json(row) for row in await query.order_by("id")]


async def read_statement(account_id: str) -> dict[str, Any] | None:
    """The account's statement from the live read model; None if there is no such account."""
    account = await AccountRow.get_or_none(id=account_id)
    if account is None:
        return None
    entries = await statement_of(await open_read_model(ACCOUNT_STATEMENT), account_id)
    return {"account_id": account_id, "currency": account.currency, "entries": entries}


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
    found = read_database(lambda: read_accounts(account_id))
    if not found:
        fail(f"no account {account_id!r}")
    print_json(found[0]) if as_json else typer.echo(_line(found[0]))


@accounts_app.command("list")
def list_accounts(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List all accounts."""
    found = read_database(lambda: read_accounts(None))
    if as_json:
        print_json(found)
    else:
        for account in found:
            typer.echo(_line(account))


def _entry_line(entry: dict[str, Any], currency: str) -> str:
    return (
        f"#{entry['position']:<8} {entry['at']:<32} {entry['kind']:<20} "
        f"{entry['amount']:>18} {entry['balance']:>18} {currency}  {entry['cause'] or '-'}"
    )


@accounts_app.command("statement")
def statement(
    account_id: str = typer.Argument(..., metavar="ACCOUNT_ID", callback=valid_id("account")),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show an account's movements, oldest first: position in the event log, time, kind
    (deposit, withdrawal, or a saga's <kind>.<step> such as transfer.withdraw), signed
    amount, balance after it, and the message id of the command that caused it."""
    found = read_database(lambda: read_statement(account_id))
    if found is None:
        fail(f"no account {account_id!r}")
    currency = found.pop("currency")
    if as_json:
        print_json(found)
    else:
        for entry in found["entries"]:
            typer.echo(_entry_line(entry, currency))
