"""Turning one read delivery into a validated command, or a precise reason why not."""

from __future__ import annotations

import json
from dataclasses import dataclass

from worker.bus.commands import Command, InvalidCommand
from worker.bus.message_ids import POLICY_PREFIX
from worker.bus.registry import CommandRegistry
from worker.bus.unit_of_work import MessageContext
from worker.messaging.delivery import Delivery
from worker.messaging.retry_seal import RetrySeal

JSON_CONTENT_TYPES = {"", "application/json"}
#: The only charset a JSON body may declare (RFC 8259: JSON exchanged between
#: systems is UTF-8); any other would be ignored, and the body misread.
JSON_CHARSETS = {"", "utf-8", "utf8"}


@dataclass(frozen=True)
class Envelope:
    command: Command
    context: MessageContext


def _check_content_type(content_type: str | None) -> None:
    media_type, *parameters = (content_type or "").split(";")
    charset = ""
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media_type.strip().lower() not in JSON_CONTENT_TYPES or charset not in JSON_CHARSETS:
        raise InvalidCommand(
            "unsupported_content_type",
            f"content type {content_type!r} is not supported; send application/json (UTF-8)",
        )


def _check_transport(delivery: Delivery, max_body_bytes: int) -> str:
    if delivery.undecodable is not None:
        raise InvalidCommand(
            "undecodable_properties",
            f"the message's properties cannot be decoded: {delivery.undecodable.describe()}",
        )
    message = delivery.message
    size = len(message.body)
    if size > max_body_bytes:
        raise InvalidCommand(
            "body_too_large", f"body of {size} bytes exceeds the limit of {max_body_bytes} bytes"
        )
    _check_content_type(message.content_type)
    if message.content_encoding and message.content_encoding.lower() not in {"utf-8", "identity"}:
        raise InvalidCommand(
            "unsupported_content_encoding",
            f"content encoding {message.content_encoding!r} is not supported",
        )
    for problem in (delivery.id_problem, delivery.correlation_problem):
        if problem is not None:
            raise InvalidCommand(problem.code, problem.message)
    assert delivery.message_id is not None  # no id problem: there is an id
    return delivery.message_id


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object whose names are unique: parsers disagree on which duplicate
    wins, so a body with two ``amount``s means different things to different readers."""
    found: dict[str, object] = {}
    for name, value in pairs:
        if name in found:
            raise ValueError(f"the name {name!r} appears more than once in an object")
        found[name] = value
    return found


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def decode_body(body: bytes) -> object:
    """A command's body as JSON, or InvalidCommand (``not_utf8``, ``malformed_json``): the
    same rules on AMQP and over HTTP."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidCommand("not_utf8", f"the body is not UTF-8: {error}") from None
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError too
        raise InvalidCommand("malformed_json", f"the body is not usable JSON: {error}") from None


def _check_issuer(delivery: Delivery, message_id: str, command: Command, seal: RetrySeal) -> None:
    """A policy's message id only under a worker's seal; a policy's command only under its id."""
    if message_id.startswith(POLICY_PREFIX) and not seal.authentic(
        delivery.headers, delivery.queue, message_id, delivery.body
    ):
        raise InvalidCommand(
            "reserved_message_id",
            f"message ids of the form {POLICY_PREFIX}<handler>/... are the policies' own",
        )
    issuer = command.issued_by
    if issuer is not None and not message_id.startswith(f"{POLICY_PREFIX}{issuer}/"):
        raise InvalidCommand(
            "reserved_command", f"{command.name()} is issued by the {issuer} policy only"
        )


def open_envelope(
    delivery: Delivery, max_body_bytes: int, commands: CommandRegistry, seal: RetrySeal
) -> Envelope:
    """Check properties, size, content type, ids, name, JSON, schema and issuer, in that order."""
    message_id = _check_transport(delivery, max_body_bytes)
    name = delivery.command_name
    if name not in commands.public:
        raise InvalidCommand("unknown_command", f"unknown command {name!r}")
    command = commands.parse(name, decode_body(delivery.body))
    _check_issuer(delivery, message_id, command, seal)
    context = MessageContext(message_id, name, delivery.correlation_id)
    return Envelope(command, context)
