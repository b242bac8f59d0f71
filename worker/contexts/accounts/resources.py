"""What accounts serve over HTTP: an account as ``accounts show --json`` prints it, and its
statement from the ``account_statement`` projection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from worker.contexts.accounts.views import read_accounts, read_statement
from worker.web.resources import Resource


async def _account(path: Mapping[str, str]) -> dict[str, Any] | None:
    found = await read_accounts(path["account_id"])
    return found[0] if found else None


async def _statement(path: Mapping[str, str]) -> dict[str, Any] | None:
    return await read_statement(path["account_id"])


RESOURCES = (
    Resource(
        "/accounts/{account_id}",
        _account,
        "An account: owner, currency, balance, status and version.",
        example={
            "account_id": "acc-1",
            "owner": "Ada",
            "currency": "EUR",
            "balance": "100.00",
            "status": "open",
            "version": 2,
        },
    ),
    Resource(
        "/accounts/{account_id}/statement",
        _statement,
        "An account's movements, oldest first, with the balance after each.",
        projection="account_statement",
    ),
)
