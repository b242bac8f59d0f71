"""A command's body as the worker would read it: UTF-8 JSON with unique names (the
envelope's own decoder), validated by the command's own model, each fault named by its field."""

from __future__ import annotations

from pydantic import ValidationError

from worker.bus.commands import Command, InvalidCommand
from worker.bus.registry import CommandRegistry
from worker.messaging.envelope import decode_body as decode_json
from worker.web.problems import FieldError, Problem, field_path


def decode(body: bytes) -> object:
    """The body's JSON value, decoded exactly as the worker decodes an AMQP body (UTF-8,
    unique names, no NaN); else a 422 ``malformed_json`` or ``not_utf8``."""
    try:
        return decode_json(body)
    except InvalidCommand as invalid:
        field = FieldError("body", invalid.code, invalid.message)
        raise Problem(422, invalid.code, invalid.message, [field]) from None


def field_errors(model: type[Command], data: object) -> list[FieldError]:
    if not isinstance(data, dict):
        return [FieldError("body", "type", "the body must be a JSON object")]
    try:
        model.model_validate(data)
    except ValidationError as error:
        return [
            FieldError(field_path(e["loc"]), e["type"], e["msg"])
            for e in error.errors(include_url=False)
        ]
    return []


def parse(commands: CommandRegistry, name: str, body: bytes) -> Command:
    """The command ``body`` makes, or a 422 naming each field at fault."""
    data = decode(body)
    try:
        return commands.parse(name, data)
    except InvalidCommand as invalid:
        errors = field_errors(commands.public[name], data)
        raise Problem(422, invalid.code, invalid.message, errors) from None
