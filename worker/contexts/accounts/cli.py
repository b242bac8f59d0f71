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
from worker.contexts.accounts.views import read_accounts, read_statement

accounts_app = typer.Typer(help="Read accounts.", no_args_is_help=True)


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
