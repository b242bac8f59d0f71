"""What happens to accounts, in the past tense. Published as ``accounts.<EventName>``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from domain.shared.model import DomainEvent


@dataclass(frozen=True, kw_only=True)
class AccountEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "accounts"
    published_as: ClassVar[Mapping[str, str]] = {"aggregate_id": "account_id"}


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
