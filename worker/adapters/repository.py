"""The tortoise-backed Account repository, bound to one transaction."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from domain.accounts import Account
from domain.errors import ConcurrencyConflict
from worker.adapters import mappers
from worker.adapters.orm import AccountRow


class TortoiseAccountRepository:
    """Implements :class:`domain.ports.AccountRepository` on one connection.

    It remembers every aggregate it handed out or was given (``seen``), so the
    unit of work can save them and collect their events at commit.
    """

    def __init__(self, connection: BaseDBAsyncClient) -> None:
        self._db = connection
        self.seen: dict[str, Account] = {}
        self._new: set[str] = set()

    async def get(self, account_id: str) -> Account | None:
        if account_id in self.seen:
            return self.seen[account_id]
        row = await AccountRow.filter(id=account_id).using_db(self._db).first()
        if row is None:
            return None
        account = mappers.account_to_domain(row)
        self.seen[account_id] = account
        return account

    def add(self, account: Account) -> None:
        self.seen[account.id] = account
        self._new.add(account.id)

    async def list(self) -> list[Account]:
        rows = await AccountRow.all().using_db(self._db).order_by("id")
        return [mappers.account_to_domain(row) for row in rows]

    def forget(self) -> None:
        self.seen.clear()
        self._new.clear()

    async def save_changed(self) -> None:
        """Write every aggregate with pending events, checking its version."""
        for account in self.seen.values():
            if not account.pending_events:
                continue
            new_version = account.version + len(account.pending_events)
            fields = mappers.account_fields(account)
            if account.id in self._new:
                try:
                    await AccountRow.create(
                        id=account.id, version=new_version, using_db=self._db, **fields
                    )
                except IntegrityError:
                    raise ConcurrencyConflict(f"account {account.id} was just created") from None
            else:
                updated = await (
                    AccountRow.filter(id=account.id, version=account.version)
                    .using_db(self._db)
                    .update(version=new_version, **fields)
                )
                if updated != 1:
                    raise ConcurrencyConflict(
                        f"account {account.id} changed since version {account.version}"
                    )
