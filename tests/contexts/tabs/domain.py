"""The Tab aggregate and its lines: pure domain, built on the shared kernel only."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from domain.shared.errors import BusinessRuleViolation, InvalidStateTransition, InvalidValue
from domain.shared.ids import validate_id
from domain.shared.model import AggregateRoot, DomainEvent
from domain.shared.money import Money

MAX_LINES = 20


class TabStatus(enum.StrEnum):
    """Past ``closed``, the settlement saga's own states."""

    OPEN = "open"
    CLOSED = "closed"  # settlement requested: the saga runs
    COMPLETED = "completed"  # the guest paid the house
    COMPENSATED = "compensated"  # the credit failed and the guest got the charge back
    REJECTED = "rejected"  # the charge was refused: nothing moved
    NEEDS_OPERATOR = "needs_operator"
    RESOLVED = "resolved"  # settled by hand
    CONFLICTED = "conflicted"  # its saga id was taken by another request's run


ENDED = frozenset(
    {
        TabStatus.COMPLETED,
        TabStatus.COMPENSATED,
        TabStatus.REJECTED,
        TabStatus.RESOLVED,
        TabStatus.CONFLICTED,
    }
)
SETTLING = frozenset({TabStatus.CLOSED, TabStatus.NEEDS_OPERATOR})


class EmptyTab(BusinessRuleViolation):
    code = "empty_tab"


class TabNotFound(BusinessRuleViolation):
    code = "tab_not_found"


class UnknownAccount(BusinessRuleViolation):
    code = "account_not_found"


@dataclass(frozen=True, kw_only=True)
class TabEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "tabs"
    published_as: ClassVar[Mapping[str, str]] = {"aggregate_id": "tab_id"}


@dataclass(frozen=True, kw_only=True)
class TabOpened(TabEvent):
    account_id: str
    house_account_id: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class ItemAdded(TabEvent):
    item: str
    quantity: int
    unit_price: str


@dataclass(frozen=True, kw_only=True)
class ItemRemoved(TabEvent):
    item: str


@dataclass(frozen=True, kw_only=True)
class TabClosed(TabEvent):
    """Starts the settlement saga: everything it needs is here."""

    account_id: str
    house_account_id: str
    total: str
    currency: str
    lines: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class TabSettlementEnded(TabEvent):
    status: str
    reason: str


@dataclass
class TabLine:
    """A child entity of the tab: one item, its quantity and unit price."""

    line_no: int
    item: str
    quantity: int
    unit_price: Money

    @property
    def subtotal(self) -> Money:
        return Money.of(self.unit_price.amount * self.quantity, str(self.unit_price.currency))


class Tab(AggregateRoot):
    def __init__(
        self,
        id: str,
        account_id: str,
        house_account_id: str,
        currency: str,
        lines: list[TabLine] | None = None,
        status: TabStatus = TabStatus.OPEN,
        reason: str = "",
        version: int = 0,
    ) -> None:
        super().__init__(validate_id("tab", id), version)
        self.account_id = validate_id("account", account_id)
        self.house_account_id = validate_id("account", house_account_id)
        if account_id == house_account_id:
            raise InvalidValue("the guest and the house need two different accounts")
        self.currency = currency
        self.lines = lines or []
        self.status, self.reason = TabStatus(status), reason

    @classmethod
    def open(cls, id: str, account_id: str, house_account_id: str, currency: str) -> Tab:
        tab = cls(id, account_id, house_account_id, currency)
        tab.record(
            TabOpened(
                aggregate_id=id,
                aggregate_version=1,
                account_id=account_id,
                house_account_id=house_account_id,
                currency=currency,
            )
        )
        return tab

    @property
    def total(self) -> Money:
        total = Money.zero(self.currency)
        for line in self.lines:
            total = total + line.subtotal
        return total

    def add(self, item: str, quantity: int, unit_price: Money) -> None:
        """A second order of the same item adds to its line."""
        self._require(TabStatus.OPEN, "add to")
        if quantity < 1:
            raise InvalidValue(f"quantity must be at least 1, got {quantity}")
        same = next((line for line in self.lines if line.item == item), None)
        if same is not None and same.unit_price != unit_price:
            raise InvalidValue(f"{item} is on the tab at {same.unit_price}, not {unit_price}")
        if same is not None:
            same.quantity += quantity
        elif len(self.lines) >= MAX_LINES:
            raise InvalidValue(f"a tab holds at most {MAX_LINES} lines")
        else:
            self.lines.append(TabLine(len(self.lines) + 1, item, quantity, unit_price))
        self.record(
            ItemAdded(
                aggregate_id=self.id,
                aggregate_version=self.next_version,
                item=item,
                quantity=quantity,
                unit_price=unit_price.to_string(),
            )
        )

    def remove(self, item: str) -> None:
        self._require(TabStatus.OPEN, "remove from")
        kept = [line for line in self.lines if line.item != item]
        if len(kept) == len(self.lines):
            raise InvalidValue(f"{item} is not on tab {self.id}")
        self.lines = [
            TabLine(n, line.item, line.quantity, line.unit_price) for n, line in enumerate(kept, 1)
        ]
        self.record(
            ItemRemoved(aggregate_id=self.id, aggregate_version=self.next_version, item=item)
        )

    def close(self) -> None:
        self._require(TabStatus.OPEN, "close")
        if not self.lines:
            raise EmptyTab(f"tab {self.id} has nothing on it")
        self.status = TabStatus.CLOSED
        self.record(
            TabClosed(
                aggregate_id=self.id,
                aggregate_version=self.next_version,
                account_id=self.account_id,
                house_account_id=self.house_account_id,
                total=self.total.to_string(),
                currency=self.currency,
                lines=[
                    {
                        "item": line.item,
                        "quantity": line.quantity,
                        "subtotal": line.subtotal.to_string(),
                    }
                    for line in self.lines
                ],
            )
        )

    def settle(self, status: TabStatus, reason: str) -> None:
        """Where the settlement saga stands: waiting for an operator, or ended."""
        if status not in ENDED | {TabStatus.NEEDS_OPERATOR}:
            raise InvalidValue(f"{status} is not a state of the settlement")
        if self.status is status:
            return  # the saga recorded it already
        if self.status not in SETTLING:
            raise InvalidStateTransition(f"tab {self.id} is {self.status}, not settling")
        self.status, self.reason = status, reason
        self.record(
            TabSettlementEnded(
                aggregate_id=self.id,
                aggregate_version=self.next_version,
                status=status.value,
                reason=reason,
            )
        )

    def _require(self, status: TabStatus, action: str) -> None:
        if self.status is not status:
            raise InvalidStateTransition(f"cannot {action} tab {self.id}: it is {self.status}")
