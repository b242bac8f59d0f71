"""Money: a decimal amount in one ISO-4217 currency."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from domain.shared.errors import CurrencyMismatch, InvalidValue
from domain.shared.model import ValueObject

#: Minor-unit digits of the currencies the model accepts (ISO 4217).
MINOR_UNITS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "JPY": 0,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "CNY": 2,
    "INR": 2,
    "KRW": 0,
}

#: Larger amounts are refused as bad input: no real account holds them, and
#: the database column has room for them with margin.
MAX_AMOUNT = Decimal("1e15")


@dataclass(frozen=True)
class Currency(ValueObject):
    code: str

    def validate(self) -> None:
        if self.code not in MINOR_UNITS:
            raise InvalidValue(f"unknown currency {self.code!r}")

    @property
    def minor_units(self) -> int:
        return MINOR_UNITS[self.code]

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class Money(ValueObject):
    """An exact amount (never a float) with at most the currency's minor-unit digits."""

    amount: Decimal
    currency: Currency

    def validate(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise InvalidValue(f"amount must be a finite decimal, got {self.amount!r}")
        if abs(self.amount) >= MAX_AMOUNT:
            raise InvalidValue(f"amount {self.amount} is too large")
        exponent = self.amount.as_tuple().exponent
        assert isinstance(exponent, int)  # finite decimals have an int exponent
        if -exponent > self.currency.minor_units and self.amount != self.amount.quantize(
            self._quantum
        ):
            raise InvalidValue(
                f"{self.currency} allows {self.currency.minor_units} decimal places, "
                f"got {self.amount}"
            )

    @classmethod
    def of(cls, amount: str | Decimal | int, currency: str) -> Money:
        """Build from user input; raises :class:`InvalidValue` on anything malformed."""
        if isinstance(amount, float | bool):
            raise InvalidValue("amounts are never floats; pass a decimal string")
        if isinstance(amount, str) and not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", amount):
            raise InvalidValue(f"not a decimal amount: {amount!r}")
        try:
            value = Decimal(amount)
        except (InvalidOperation, TypeError, ValueError):
            raise InvalidValue(f"not a decimal amount: {amount!r}") from None
        return cls(value, Currency(currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), Currency(currency))

    @property
    def _quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.currency.minor_units)

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        """This amount ``quantity`` times (a unit price times a line's quantity)."""
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidValue(f"a quantity is a whole number, got {quantity!r}")
        return Money(self.amount * quantity, self.currency)

    def percent(self, rate: Decimal | int) -> Money:
        """``rate`` percent of this amount, rounded half-even to the currency's minor unit."""
        if isinstance(rate, float | bool) or not isinstance(rate, Decimal | int):
            raise InvalidValue(f"a percentage is a decimal or an integer, got {rate!r}")
        share = (self.amount * Decimal(rate) / 100).quantize(self._quantum, ROUND_HALF_EVEN)
        return Money(share, self.currency)

    @classmethod
    def total(cls, amounts: Iterable[Money], currency: str) -> Money:
        """The sum of ``amounts``, all in ``currency`` (zero when there are none)."""
        return sum(amounts, cls.zero(currency))

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def to_string(self) -> str:
        """The canonical decimal string, with exactly the currency's minor-unit digits."""
        return str(self.amount.quantize(self._quantum))

    def __str__(self) -> str:
        return f"{self.to_string()} {self.currency}"
