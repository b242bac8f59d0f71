"""The Transfer aggregate: money moving between two accounts, run as a saga.

The transfer itself never touches an account: the saga withdraws, deposits and,
when needed, refunds through ordinary account commands. The aggregate records
what was asked and how it ended.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from domain.shared.errors import InvalidStateTransition, InvalidValue
from domain.shared.ids import validate_id
from domain.shared.model import AggregateRoot, DomainEvent
from domain.shared.money import Money
from domain.transfers.errors import TransferConflict


class TransferState(enum.StrEnum):
    REQUESTED = "requested"
    COMPLETED = "completed"
    REJECTED = "rejected"
    COMPENSATED = "compensated"
    NEEDS_OPERATOR = "needs_operator"
    RESOLVED = "resolved"
    #: Its saga's id belongs to a run of another request (a recreated or restored
    #: database): nothing was done for this one.
    CONFLICTED = "conflicted"


FINAL_STATES = frozenset(
    {
        TransferState.COMPLETED,
        TransferState.REJECTED,
        TransferState.COMPENSATED,
        TransferState.RESOLVED,
        TransferState.CONFLICTED,
    }
)


@dataclass(frozen=True, kw_only=True)
class TransferEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "transfers"
    published_as: ClassVar[Mapping[str, str]] = {"aggregate_id": "transfer_id"}


@dataclass(frozen=True, kw_only=True)
class TransferRequested(TransferEvent):
    from_account_id: str
    to_account_id: str
    amount: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class TransferCompleted(TransferEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class TransferStoppedWithReason(TransferEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class TransferRejected(TransferStoppedWithReason):
    pass


@dataclass(frozen=True, kw_only=True)
class TransferCompensated(TransferStoppedWithReason):
    pass


@dataclass(frozen=True, kw_only=True)
class TransferNeedsOperator(TransferStoppedWithReason):
    pass


@dataclass(frozen=True, kw_only=True)
class TransferResolved(TransferStoppedWithReason):
    pass


@dataclass(frozen=True, kw_only=True)
class TransferConflicted(TransferStoppedWithReason):
    """Its saga's id was taken by another request's run; the reason names that run."""


REASONED_EVENTS: dict[TransferState, type[TransferStoppedWithReason]] = {
    TransferState.REJECTED: TransferRejected,
    TransferState.COMPENSATED: TransferCompensated,
    TransferState.NEEDS_OPERATOR: TransferNeedsOperator,
    TransferState.RESOLVED: TransferResolved,
    TransferState.CONFLICTED: TransferConflicted,
}


def validate_transfer_id(transfer_id: str) -> str:
    """Like an account id: no "/", which separates the parts of the saga's step keys."""
    return validate_id("transfer", transfer_id)


class Transfer(AggregateRoot):
    """What was asked (two accounts, an amount) and where the saga stands."""

    def __init__(
        self,
        id: str,
        from_account_id: str,
        to_account_id: str,
        amount: Money,
        state: TransferState = TransferState.REQUESTED,
        reason: str = "",
        version: int = 0,
    ) -> None:
        super().__init__(validate_transfer_id(id), version)
        if from_account_id == to_account_id:
            raise InvalidValue("a transfer needs two different accounts")
        if not amount.is_positive:
            raise InvalidValue(f"amount must be positive, got {amount}")
        self.from_account_id = validate_id("account", from_account_id)
        self.to_account_id = validate_id("account", to_account_id)
        self.amount = amount
        self.state = TransferState(state)
        self.reason = reason

    @classmethod
    def request(cls, id: str, from_account_id: str, to_account_id: str, amount: Money) -> Transfer:
        transfer = cls(id, from_account_id, to_account_id, amount)
        transfer.record(
            TransferRequested(
                aggregate_id=id,
                aggregate_version=1,
                from_account_id=from_account_id,
                to_account_id=to_account_id,
                amount=amount.to_string(),
                currency=str(amount.currency),
            )
        )
        return transfer

    def require_same_request(self, from_account_id: str, to_account_id: str, amount: Money) -> None:
        asked = (from_account_id, to_account_id, amount)
        if (self.from_account_id, self.to_account_id, self.amount) != asked:
            raise TransferConflict(
                f"transfer {self.id} already exists with other content "
                f"({self.from_account_id} -> {self.to_account_id}, {self.amount})"
            )

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    def end(self, state: TransferState, reason: str = "") -> None:
        """Record how the saga stands: a final state, or waiting for an operator."""
        if state is TransferState.REQUESTED:
            raise InvalidStateTransition("a transfer cannot go back to requested")
        if self.state == state and (self.is_final or self.reason == reason):
            return  # the same news twice changes nothing
        if self.is_final:
            raise InvalidStateTransition(f"transfer {self.id} already ended {self.state}")
        self.state, self.reason = state, reason
        if state is TransferState.COMPLETED:
            self.record(
                TransferCompleted(aggregate_id=self.id, aggregate_version=self.next_version)
            )
        else:
            event = REASONED_EVENTS[state]
            self.record(
                event(aggregate_id=self.id, aggregate_version=self.next_version, reason=reason)
            )
