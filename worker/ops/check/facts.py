"""What every check reports, and how it writes money."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.shared.money import MINOR_UNITS


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
