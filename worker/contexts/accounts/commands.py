"""Commands that change one Account."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import StringConstraints, field_validator

from domain.accounts.account import OWNER_MAX_LENGTH
from worker.bus.commands import AmountCommand, Command, CurrencyCode, EntityId

AccountId = EntityId


class AccountCommand(Command):
    identity_fields: ClassVar[tuple[str, ...]] = ("account_id",)

    account_id: AccountId

    @property
    def aggregate_id(self) -> str:
        return self.account_id


class MoneyCommand(AmountCommand):
    identity_fields: ClassVar[tuple[str, ...]] = ("account_id",)

    account_id: AccountId

    @property
    def aggregate_id(self) -> str:
        return self.account_id


class OpenAccount(AccountCommand):
    owner: Annotated[str, StringConstraints(min_length=1, max_length=OWNER_MAX_LENGTH)]
    currency: CurrencyCode

    @field_validator("owner")
    @classmethod
    def _owner_is_not_blank(cls, owner: str) -> str:
        if not owner.strip():
            raise ValueError("owner must not be blank")
        return owner


class Deposit(MoneyCommand):
    pass


class Withdraw(MoneyCommand):
    pass


class FreezeAccount(AccountCommand):
    pass


class UnfreezeAccount(AccountCommand):
    pass


class CloseAccount(AccountCommand):
    pass
