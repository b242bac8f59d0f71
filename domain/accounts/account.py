"""The Account aggregate: a balance in one currency that never goes negative."""

from __future__ import annotations

import enum

from domain.accounts.errors import (
    AccountIsClosed,
    AccountIsFrozen,
    BalanceLimitExceeded,
    InsufficientFunds,
    NonZeroBalance,
)
from domain.accounts.events import (
    AccountClosed,
    AccountFrozen,
    AccountOpened,
    AccountUnfrozen,
    MoneyDeposited,
    MoneyWithdrawn,
)
from domain.shared.errors import CurrencyMismatch, InvalidStateTransition, InvalidValue
from domain.shared.ids import ID_PATTERN, validate_id
from domain.shared.model import AggregateRoot
from domain.shared.money import MAX_AMOUNT, Currency, Money

ACCOUNT_ID_PATTERN = ID_PATTERN
OWNER_MAX_LENGTH = 200


class AccountStatus(enum.StrEnum):
    OPEN = "open"
    FROZEN = "frozen"
    CLOSED = "closed"


def validate_account_id(account_id: str) -> str:
    return validate_id("account", account_id)


def validate_owner(owner: str) -> str:
    if not 1 <= len(owner) <= OWNER_MAX_LENGTH or not owner.strip():
        raise InvalidValue(f"owner must be 1 to {OWNER_MAX_LENGTH} characters")
    return owner


class Account(AggregateRoot):
    """A bank account. Every state change records exactly one event."""

    def __init__(
        self,
        id: str,
        owner: str,
        balance: Money,
        status: AccountStatus = AccountStatus.OPEN,
        version: int = 0,
    ) -> None:
        super().__init__(validate_account_id(id), version)
        if balance.is_negative:
            raise InvalidValue(f"account {id} cannot hold a negative balance ({balance})")
        self.owner = validate_owner(owner)
        self.balance = balance
        self.status = AccountStatus(status)

    @property
    def currency(self) -> Currency:
        return self.balance.currency

    @classmethod
    def open(cls, id: str, owner: str, currency: str) -> Account:
        account = cls(id, owner, Money.zero(currency))
        account.record(
            AccountOpened(aggregate_id=id, aggregate_version=1, owner=owner, currency=currency)
        )
        return account

    def deposit(self, amount: Money) -> None:
        self._require_not_closed()
        self._require_positive_in_own_currency(amount)
        if self.balance.amount + amount.amount >= MAX_AMOUNT:
            raise BalanceLimitExceeded(
                f"account {self.id} would hold more than the largest balance allowed"
            )
        self.balance = self.balance + amount
        self._record_movement(MoneyDeposited, amount)

    def withdraw(self, amount: Money) -> None:
        self._require_not_closed()
        self._require_positive_in_own_currency(amount)
        if self.status is AccountStatus.FROZEN:
            raise AccountIsFrozen(f"account {self.id} is frozen")
        if self.balance < amount:
            raise InsufficientFunds(
                f"account {self.id} holds {self.balance}, cannot withdraw {amount}"
            )
        self.balance = self.balance - amount
        self._record_movement(MoneyWithdrawn, amount)

    def freeze(self) -> None:
        self._require_not_closed()
        if self.status is AccountStatus.FROZEN:
            raise InvalidStateTransition(f"account {self.id} is already frozen")
        self.status = AccountStatus.FROZEN
        self.record(AccountFrozen(aggregate_id=self.id, aggregate_version=self.next_version))

    def unfreeze(self) -> None:
        self._require_not_closed()
        if self.status is not AccountStatus.FROZEN:
            raise InvalidStateTransition(f"account {self.id} is not frozen")
        self.status = AccountStatus.OPEN
        self.record(AccountUnfrozen(aggregate_id=self.id, aggregate_version=self.next_version))

    def close(self) -> None:
        self._require_not_closed()
        if not self.balance.is_zero:
            raise NonZeroBalance(f"account {self.id} still holds {self.balance}")
        self.status = AccountStatus.CLOSED
        self.record(AccountClosed(aggregate_id=self.id, aggregate_version=self.next_version))

    def _require_not_closed(self) -> None:
        if self.status is AccountStatus.CLOSED:
            raise AccountIsClosed(f"account {self.id} is closed")

    def _require_positive_in_own_currency(self, amount: Money) -> None:
        if amount.currency != self.currency:
            raise CurrencyMismatch(
                f"account {self.id} is in {self.currency}, the amount is in {amount.currency}"
            )
        if not amount.is_positive:
            raise InvalidValue(f"amount must be positive, got {amount}")

    def _record_movement(
        self, event: type[MoneyDeposited] | type[MoneyWithdrawn], amount: Money
    ) -> None:
        self.record(
            event(
                aggregate_id=self.id,
                aggregate_version=self.next_version,
                amount=amount.to_string(),
                currency=str(amount.currency),
                balance=self.balance.to_string(),
            )
        )
