"""``worker accounts``: read the current state of accounts."""

from __future__ import annotations

from typing import Any

import typer

from worker.adapters import database
from worker.adapters.mappers import account_to_domain
from worker.adapters.orm import AccountRow
from worker.config import redact
from worker.entrypoints.common import fail, load_settings, print_json, run_async

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


async def _query(account_id: str | None) -> list[dict[str, Any]]:
    settings = load_settings()
    try:
        await database.connect(settings)
        query = AccountRow.all() if account_id is None else AccountRow.filter(id=account_id)
        return [account_json(row) for row in await query.order_by("id")]
    except (OSError, ConnectionError) as error:
        fail(f"cannot reach the database at {redact(settings.database_url)}: {error}")
    finally:
        await database.close()


def _line(account: dict[str, Any]) -> str:
    return (
        f"{account['account_id']:<20} {account['balance']:>18} {account['currency']}  "
        f"{account['status']:<7} v{account['version']}  {account['owner']}"
    )


@accounts_app.command("show")
def show(
    account_id: str,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one account."""
    found = run_async(_query(account_id))
    if not found:
        fail(f"no account {account_id!r}")
    print_json(found[0]) if as_json else typer.echo(_line(found[0]))


@accounts_app.command("list")
def list_accounts(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List all accounts."""
    found = run_async(_query(None))
    if as_json:
        print_json(found)
    else:
        for account in found:
            typer.echo(_line(account))
