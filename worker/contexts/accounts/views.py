"""What accounts show of themselves: an account's and a statement's JSON, read from a
connected database (the CLI prints them, the HTTP API serves them)."""

from __future__ import annotations

from typing import Any

from worker.contexts.accounts.persistence import AccountRow, account_to_domain
from worker.contexts.accounts.statement import ACCOUNT_STATEMENT, statement_of
from worker.readside.read_model import open_read_model


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
