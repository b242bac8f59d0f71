"""One AMQP delivery, read once: every later step (envelope, retries, dead letters,
replies, logs) takes what it needs from a :class:`Delivery`, never from the raw message.

Reading never fails: whatever a field holds, the delivery says what is usable and,
for what is not, why (``id_problem``, ``correlation_problem``, ``undecodable``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from worker.bus.message_ids import IdProblem, check_correlation_id, check_message_id
from worker.messaging import headers as h
from worker.messaging.retry_seal import RetrySeal
from worker.messaging.wire import UNDECODABLE, Undecodable

MESSAGE_ID_HEADER = "message-id"


@dataclass(frozen=True)
class Delivery:
    """What the worker read of one delivery; ``message`` is kept to ack, nack and copy it."""

    message: AbstractIncomingMessage
    queue: str
    #: The idempotency key, or ``None`` with ``id_problem`` saying why.
    message_id: str | None
    id_problem: IdProblem | None
    correlation_id: str | None
    correlation_problem: IdProblem | None
    command_name: str
    #: Handler attempts and delayed rounds already spent (0 unless sealed by a worker).
    attempts: int
    retry_round: int
    #: The headers as received, less what the wire decoder could not read.
    headers: dict[str, Any]
    undecodable: Undecodable | None
    #: Where replies may go: never one of the worker's own queues (``refused_reply_to``).
    reply_to: str | None
    operator_queue: str | None
    refused_reply_to: str | None

    @property
    def body(self) -> bytes:
        return self.message.body

    @property
    def log_id(self) -> str:
        return self.message_id or "-"


def read_delivery(
    message: AbstractIncomingMessage,
    queue: str,
    seal: RetrySeal,
    own: Callable[[str], bool],
    commands: Container[str] = (),
    reserved: re.Pattern[str] | None = None,
) -> Delivery:
    """``commands``: the names a routing key may give; ``reserved``: the saga steps' ids."""
    headers = dict(message.headers or {})
    undecodable = headers.pop(UNDECODABLE, None)
    message_id, id_problem = message_id_of(headers, message.message_id, reserved)
    correlation_id, correlation_problem = _correlation_id(message.correlation_id)
    attempts, round_ = (0, 0)
    if message_id is not None:
        attempts, round_ = seal.verified(headers, queue, message_id, message.body)
    return Delivery(
        message=message,
        queue=queue,
        message_id=message_id,
        id_problem=id_problem,
        correlation_id=correlation_id,
        correlation_problem=correlation_problem,
        command_name=_command_name(message, commands),
        attempts=attempts,
        retry_round=round_,
        headers=headers,
        undecodable=undecodable if isinstance(undecodable, Undecodable) else None,
        reply_to=_allowed(message.reply_to, own),
        operator_queue=_allowed(_text(headers.get(h.RETRY_REPLY_TO)), own),
        refused_reply_to=message.reply_to if message.reply_to and own(message.reply_to) else None,
    )


def message_id_of(
    headers: Mapping[str, Any], prop: str | None, reserved: re.Pattern[str] | None = None
) -> tuple[str | None, IdProblem | None]:
    """The ``message-id`` header if present, else the property, checked.

    The header wins because it is only ever set on purpose, while some client
    libraries fill the property with a random id when the caller leaves it empty.
    A byte-array header (what pika, Java's ``byte[]`` and Node's ``Buffer`` send)
    is read as UTF-8; any other non-string header is refused, never ignored.
    """
    if MESSAGE_ID_HEADER in headers:
        value: object = headers[MESSAGE_ID_HEADER]
        if isinstance(value, bytes | bytearray):
            try:
                value = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                return None, IdProblem("invalid_message_id", "the message-id header is not UTF-8")
        if not isinstance(value, str):
            kind = type(value).__name__
            return None, IdProblem(
                "invalid_message_id", f"the message-id header is a {kind}, not a string"
            )
        candidate = value
    elif prop:
        candidate = prop
    else:
        return None, IdProblem(
            "missing_message_id", "set the message_id property (or a message-id header)"
        )
    try:
        return check_message_id(candidate, reserved, sealed_later=True), None
    except IdProblem as problem:
        return None, problem


def _correlation_id(prop: str | None) -> tuple[str | None, IdProblem | None]:
    if not prop:
        return None, None
    try:
        return check_correlation_id(prop), None
    except IdProblem as problem:
        return None, problem


def _command_name(message: AbstractIncomingMessage, commands: Container[str]) -> str:
    """The routing key when it names a command (through ``commands``), else the
    ``type`` (a message sent to the queue directly, or a retry copy coming back),
    else the routing key, for the error."""
    name = message.routing_key or ""
    if name in commands:
        return name
    return message.type or name


def _text(value: object) -> str | None:
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value if isinstance(value, str) and value else None


def _allowed(destination: str | None, own: Callable[[str], bool]) -> str | None:
    return None if destination and own(destination) else destination
