"""Turning one AMQP delivery into a validated command, or a precise reason why not."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from aio_pika.abc import AbstractIncomingMessage

from worker.commands import PUBLIC_COMMANDS, Command, InvalidCommand, parse_command
from worker.unit_of_work import MessageContext

JSON_CONTENT_TYPES = {"", "application/json"}
#: The idempotency keys of saga steps share the inbox: no client may use them.
SAGA_KEY = re.compile(r"^transfer-[^/]*/")


@dataclass(frozen=True)
class Envelope:
    command: Command
    context: MessageContext


def message_id_of(message: AbstractIncomingMessage) -> str | None:
    """The idempotency key: a ``message-id`` header if present, else the property.

    The header wins because it is only ever set on purpose, while some client
    libraries fill the property with a random id when the caller leaves it empty.
    """
    header = (message.headers or {}).get("message-id")
    if isinstance(header, bytes):
        header = header.decode("utf-8", "replace")
    if isinstance(header, str) and header:
        return header
    return message.message_id or None


def command_name_of(message: AbstractIncomingMessage) -> str:
    """The routing key when it names a command (through ``commands``), else the ``type``
    (a message sent to the queue directly), else the routing key, for the error."""
    name = message.routing_key or ""
    if name not in PUBLIC_COMMANDS and message.type:
        return message.type
    return name


def _check_transport(message: AbstractIncomingMessage, max_body_bytes: int) -> str:
    size = len(message.body)
    if size > max_body_bytes:
        raise InvalidCommand(
            "body_too_large", f"body of {size} bytes exceeds the limit of {max_body_bytes} bytes"
        )
    content_type = (message.content_type or "").split(";", 1)[0].strip().lower()
    if content_type not in JSON_CONTENT_TYPES:
        raise InvalidCommand(
            "unsupported_content_type",
            f"content type {message.content_type!r} is not supported; send application/json",
        )
    if message.content_encoding and message.content_encoding.lower() not in {"utf-8", "identity"}:
        raise InvalidCommand(
            "unsupported_content_encoding",
            f"content encoding {message.content_encoding!r} is not supported",
        )
    message_id = message_id_of(message)
    if message_id is None:
        raise InvalidCommand(
            "missing_message_id", "set the message_id property (or a message-id header)"
        )
    if len(message_id) > 255:
        raise InvalidCommand("invalid_message_id", "the message id is longer than 255 characters")
    if SAGA_KEY.match(message_id):
        raise InvalidCommand(
            "reserved_message_id",
            "message ids of the form transfer-<id>/<step>/... are the sagas' own",
        )
    return message_id


def _decode(body: bytes) -> object:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidCommand("not_utf8", f"the body is not UTF-8: {error}") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError too
        raise InvalidCommand("malformed_json", f"the body is not usable JSON: {error}") from None


def open_envelope(message: AbstractIncomingMessage, max_body_bytes: int) -> Envelope:
    """Check size, content type, message id, name, JSON and schema, in that order."""
    message_id = _check_transport(message, max_body_bytes)
    name = command_name_of(message)
    if name not in PUBLIC_COMMANDS:
        raise InvalidCommand("unknown_command", f"unknown command {name!r}")
    command = parse_command(name, _decode(message.body))
    context = MessageContext(message_id, name, message.correlation_id or None)
    return Envelope(command, context)
