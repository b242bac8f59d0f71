"""The base of every command and the field types they share."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from domain.shared.errors import InvalidValue
from domain.shared.ids import ID_PATTERN
from domain.shared.money import MINOR_UNITS, Money

UNSTORABLE_TEXT = re.compile(r"[\x00\ud800-\udfff]")

#: The id of an aggregate, in any context.
EntityId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


def _known_currency(code: str) -> str:
    if code not in MINOR_UNITS:
        raise ValueError(f"unknown currency {code!r}; known: {', '.join(sorted(MINOR_UNITS))}")
    return code


CurrencyCode = Annotated[
    str,
    Field(json_schema_extra={"enum": sorted(MINOR_UNITS)}, pattern=r"^[A-Z]{3}$"),
    AfterValidator(_known_currency),
]
DecimalString = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,15}(\.[0-9]{1,8})?$",
        description='A positive decimal string such as "10.50", never a JSON number.',
    ),
]


class Command(BaseModel):
    """Base of every command: imperative, immutable, strictly validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    #: Only sagas dispatch it (in-process): never read from AMQP, never published by the CLI.
    internal: ClassVar[bool] = False
    #: Fields naming what the command acts on: a DLQ edit may fix the other fields
    #: but never these (the same message id must not come to mean another target).
    identity_fields: ClassVar[tuple[str, ...]] = ()
    #: The policy that alone may issue it (``Policy.name``): read from AMQP only under
    #: that policy's sealed message ids, refused from anyone else.
    issued_by: ClassVar[str | None] = None

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        """No text the database cannot store (PostgreSQL refuses NUL; UTF-8 cannot
        hold a lone surrogate, which JSON's ``\\ud800`` escapes can produce)."""
        if isinstance(value, str):
            unstorable = UNSTORABLE_TEXT.search(value)
            if unstorable:
                raise ValueError(
                    f"contains {unstorable.group()!r} at position {unstorable.start()}, "
                    "which cannot be stored"
                )
        return value

    @property
    def aggregate_id(self) -> str:
        """The aggregate the command changes: messages to one aggregate are serialised."""
        raise NotImplementedError


def positive_in_its_currency(value: str, info: ValidationInfo) -> str:
    """A field validator's check: ``value`` is a positive amount that fits the command's
    ``currency``, which must be declared (and so validated) before the field."""
    currency = info.data.get("currency")
    if currency is None:
        return value  # the currency's own error is reported instead
    try:
        money = Money.of(value, currency)
    except InvalidValue as error:
        raise ValueError(str(error)) from None
    if not money.is_positive:
        raise ValueError(f"{info.field_name} must be positive, got {value}")
    return value


class AmountCommand(Command):
    """A command carrying an amount of money in a currency."""

    # The currency comes first so that the amount's validator can see it.
    currency: CurrencyCode
    amount: DecimalString

    @field_validator("amount")
    @classmethod
    def _amount_fits_the_currency(cls, amount: str, info: ValidationInfo) -> str:
        return positive_in_its_currency(amount, info)

    @property
    def money(self) -> Money:
        return Money.of(self.amount, self.currency)


class InvalidCommand(Exception):
    """The message cannot become a command; ``code`` says why, for the DLQ and the CLI."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
