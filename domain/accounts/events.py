"""What happens to accounts, in the past tense. Published as ``accounts.<EventName>``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from domain.shared.model import DomainEvent


@dataclass(frozen=True, kw_only=True)
class AccountEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "accounts"

    def payload(self) -> dict[str, Any]:
        fields = super().payload()
        return {"account_id": fields.pop("aggregate_id"), **fields}


@dataclass(frozen=True, kw_only=True)
class AccountOpened(AccountEvent):
    owner: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class MoneyDeposited(AccountEvent):
    amount: str
    currency: str
    balance: str


@dataclass(frozen=True, kw_only=True)
class MoneyWithdrawn(AccountEvent):
    amount: str
    currency: str
    balance: str


@dataclass(frozen=True, kw_only=True)
class AccountFrozen(AccountEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class AccountUnfrozen(AccountEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class AccountClosed(AccountEvent):
    pass
