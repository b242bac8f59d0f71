"""The command contract: what clients may send, validated before anything runs.

Each public model's class name is its routing key on the ``commands`` exchange.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from worker.commands.accounts import (
    AccountCommand,
    CloseAccount,
    Deposit,
    FreezeAccount,
    MoneyCommand,
    OpenAccount,
    UnfreezeAccount,
    Withdraw,
)
from worker.commands.base import AmountCommand, Command, InvalidCommand
from worker.commands.transfers import RecordTransferOutcome, TransferMoney

__all__ = [
    "COMMANDS",
    "PUBLIC_COMMANDS",
    "AccountCommand",
    "AmountCommand",
    "CloseAccount",
    "Command",
    "Deposit",
    "FreezeAccount",
    "InvalidCommand",
    "MoneyCommand",
    "OpenAccount",
    "RecordTransferOutcome",
    "TransferMoney",
    "UnfreezeAccount",
    "Withdraw",
    "commands_for_queue",
    "json_schemas",
    "parse_command",
]

#: Every command the bus handles, by name.
COMMANDS: dict[str, type[Command]] = {
    c.name(): c
    for c in (
        OpenAccount,
        Deposit,
        Withdraw,
        FreezeAccount,
        UnfreezeAccount,
        CloseAccount,
        TransferMoney,
        RecordTransferOutcome,
    )
}
#: What clients may send over AMQP (and the CLI may publish).
PUBLIC_COMMANDS = {name: model for name, model in COMMANDS.items() if model.queue is not None}


def commands_for_queue(queue: str) -> list[str]:
    return [name for name, model in PUBLIC_COMMANDS.items() if model.queue == queue]


def json_schemas() -> dict[str, dict[str, Any]]:
    return {name: model.model_json_schema() for name, model in PUBLIC_COMMANDS.items()}


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'body'}: {e['msg']}"
        for e in error.errors(include_url=False)
    )


def parse_command(name: str, data: object, *, internal: bool = False) -> Command:
    """Validate ``data`` against the model named ``name``; raise :class:`InvalidCommand`.

    Only public commands parse unless ``internal`` (the saga's own dispatch) says otherwise.
    """
    model = (COMMANDS if internal else PUBLIC_COMMANDS).get(name)
    if model is None:
        known = ", ".join(sorted(PUBLIC_COMMANDS))
        # A name is at most a routing key (255 bytes): an error repeats no more than that.
        named = repr(name) if len(name) <= 64 else f"{name[:64]!r}… ({len(name)} characters)"
        raise InvalidCommand("unknown_command", f"unknown command {named}; known: {known}")
    if not isinstance(data, dict):
        raise InvalidCommand("schema_validation_failed", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidCommand("schema_validation_failed", f"{name}: {_describe(error)}") from None
