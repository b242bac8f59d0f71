"""The command contract: what clients may send, validated before anything runs.

Each model's class name is its routing key on the ``commands`` exchange.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from domain.accounts import ACCOUNT_ID_PATTERN, OWNER_MAX_LENGTH
from domain.errors import InvalidValue
from domain.money import MINOR_UNITS, Money

AccountId = Annotated[str, StringConstraints(pattern=ACCOUNT_ID_PATTERN)]


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

    queue: ClassVar[str] = "accounts.commands"

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @property
    def aggregate_id(self) -> str:
        """The aggregate the command changes: messages to one aggregate are serialised."""
        raise NotImplementedError


class AccountCommand(Command):
    account_id: AccountId

    @property
    def aggregate_id(self) -> str:
        return self.account_id


class MoneyCommand(AccountCommand):
    # The currency comes first so that the amount's validator can see it.
    currency: CurrencyCode
    amount: DecimalString

    @field_validator("amount")
    @classmethod
    def _amount_fits_the_currency(cls, amount: str, info: ValidationInfo) -> str:
        currency = info.data.get("currency")
        if currency is None:
            return amount  # the currency's own error is reported instead
        try:
            money = Money.of(amount, currency)
        except InvalidValue as error:
            raise ValueError(str(error)) from None
        if not money.is_positive:
            raise ValueError(f"amount must be positive, got {amount}")
        return amount

    @property
    def money(self) -> Money:
        return Money.of(self.amount, self.currency)


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


COMMANDS: dict[str, type[Command]] = {
    c.name(): c
    for c in (OpenAccount, Deposit, Withdraw, FreezeAccount, UnfreezeAccount, CloseAccount)
}


def commands_for_queue(queue: str) -> list[str]:
    return [name for name, model in COMMANDS.items() if model.queue == queue]


def json_schemas() -> dict[str, dict[str, Any]]:
    return {name: model.model_json_schema() for name, model in COMMANDS.items()}


class InvalidCommand(Exception):
    """The message cannot become a command; ``code`` says why, for the DLQ and the CLI."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'body'}: {e['msg']}"
        for e in error.errors(include_url=False)
    )


def parse_command(name: str, data: object) -> Command:
    """Validate ``data`` against the model named ``name``; raise :class:`InvalidCommand`."""
    model = COMMANDS.get(name)
    if model is None:
        known = ", ".join(sorted(COMMANDS))
        raise InvalidCommand("unknown_command", f"unknown command {name!r}; known: {known}")
    if not isinstance(data, dict):
        raise InvalidCommand("schema_validation_failed", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidCommand("schema_validation_failed", f"{name}: {_describe(error)}") from None
