"""What reconciliation compares: rows as plain values, and what it reports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from domain.shared.money import MINOR_UNITS

DEPOSITED = "accounts.MoneyDeposited"
WITHDRAWN = "accounts.MoneyWithdrawn"
#: A saga step's message id, ``transfer-<id>/<step>/<n>`` (the form the consumer
#: reserves for sagas, see ``worker.message_ids.SAGA_KEY``): transfer id and step.
SAGA_STEP = re.compile(r"^transfer-([^/]*)/([^/]*)")


@dataclass(frozen=True)
class AccountFacts:
    account_id: str
    currency: str
    balance: Decimal
    version: int


@dataclass(frozen=True)
class EventFacts:
    """One event of an account's record (an outbox row); ``amount`` only for money events."""

    account_id: str
    version: int
    event_type: str
    amount: Decimal | None = None
    causation_id: str | None = None

    @property
    def signed_amount(self) -> Decimal:
        """What the event did to the balance."""
        if self.amount is None:
            return Decimal(0)
        if self.event_type == WITHDRAWN:
            return -self.amount
        return self.amount if self.event_type == DEPOSITED else Decimal(0)

    @property
    def saga_step(self) -> tuple[str, str] | None:
        """(transfer id, step) if a saga's step caused the event; ``None`` for outside commands."""
        match = SAGA_STEP.match(self.causation_id or "")
        return None if match is None else (match[1], match[2])


@dataclass(frozen=True)
class TransferFacts:
    transfer_id: str
    from_account_id: str
    to_account_id: str
    amount: Decimal
    currency: str
    state: str
    #: Its TransferRequested event is still unsent: the relay has not started its saga yet.
    start_pending: bool = False


@dataclass(frozen=True)
class Violation:
    kind: str
    subject: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "subject": self.subject, "detail": self.detail}

    def line(self) -> str:
        return f"{self.kind}: {self.subject}: {self.detail}"


def amount_text(amount: Decimal, currency: str) -> str:
    """An amount with the currency's minor-unit digits (``10.50``), unless it has more."""
    digits = MINOR_UNITS.get(currency)
    if digits is not None:
        quantum = Decimal(1).scaleb(-digits)
        if amount == amount.quantize(quantum):
            return f"{amount.quantize(quantum):f}"
    return f"{amount.normalize():f}"


def money_text(amount: Decimal, currency: str) -> str:
    return f"{amount_text(amount, currency)} {currency}"
