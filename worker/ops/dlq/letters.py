"""A dead-lettered message as operators see it: its id, why it failed, where it came from.

Copies are read tolerantly. The worker's own carry the full record (see
``headers.py``); copies the broker dead-lettered itself (a queue's delivery limit)
carry only ``x-death``; copies from before the record existed carry an error code
but no id and no class. Each gets an id that stays the same from one look to the next.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Container, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from worker.messaging import headers as h
from worker.messaging.delivery import message_id_of
from worker.messaging.wire import UNDECODABLE, Undecodable

DLQ_SUFFIX = ".dlq"
#: Headers the broker sets on delivery: never part of a message's identity. The raw
#: bytes of undecodable properties hold the broker's count too (they are not parsed).
VOLATILE_HEADERS = ("x-delivery-count", h.UNDECODABLE_PROPERTIES)
#: Why a message had no usable message id of its own (see ``envelope``).
NO_OWN_ID_CODES = frozenset(
    {"missing_message_id", "invalid_message_id", "reserved_message_id", "undecodable_properties"}
)
NO_OWN_ID = (
    "no message id of its own, or properties that could not be read: "
    "re-send it from its source, or purge it"
)


@dataclass(frozen=True)
class Properties:
    """The AMQP properties a dead letter keeps from the original message."""

    message_id: str | None = None
    correlation_id: str | None = None
    content_type: str | None = None
    content_encoding: str | None = None
    reply_to: str | None = None
    type: str | None = None
    timestamp: datetime | None = None
    priority: int | None = None
    app_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    id: str
    dlq: str
    original_queue: str
    original_routing_key: str
    failure_class: str
    error_code: str
    error_message: str
    command: str | None
    message_id: str | None
    failed_at: str | None
    attempts: int | None
    body: bytes
    headers: Mapping[str, Any]
    properties: Properties
    #: Which delivery of the browsing channel this is (to ack exactly that one).
    tag: int = field(default=0, compare=False)


def has_own_id(letter: DeadLetter) -> bool:
    """Whether the letter can go back under a message id that is truly its own.

    One dead-lettered for lacking a usable id may still carry one its client
    library made up (aiormq fills in a random ``message_id``): sent back under it,
    it would be applied even if its sender has since re-sent it with a proper id.
    """
    if letter.error_code in NO_OWN_ID_CODES or h.UNDECODABLE_PROPERTIES in letter.headers:
        return False
    return letter.message_id is not None


def jsonable(value: Any) -> Any:
    """A header value as JSON can hold it (AMQP tables carry dates, bytes and decimals)."""
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return repr(bytes(value))
    if isinstance(value, Decimal):
        return str(value)
    return value


def _text(value: Any) -> str | None:
    value = jsonable(value)
    return value if isinstance(value, str) and value else None


def _first_death(headers: Mapping[str, Any]) -> Mapping[str, Any]:
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], Mapping):
        return deaths[0]  # the broker puts the most recent first
    return {}


def fallback_id(body: bytes, headers: Mapping[str, Any], properties: Properties) -> str:
    """12 hex characters from the body, headers and message id: stable across looks."""
    stable = {k: v for k, v in headers.items() if k not in VOLATILE_HEADERS}
    digest = hashlib.sha256(body)
    digest.update(json.dumps(jsonable(stable), sort_keys=True).encode())
    digest.update((properties.message_id or "").encode())
    return digest.hexdigest()[:12]


def command_name(
    headers: Mapping[str, Any], routing_key: str, type_: str | None, commands: Container[str]
) -> str | None:
    """The ``command`` header, else a routing key naming a command, else the ``type``."""
    named = _text(headers.get(h.COMMAND))
    if named:
        return named
    if routing_key in commands:
        return routing_key
    return type_ or None


def _failure(headers: Mapping[str, Any], death: Mapping[str, Any]) -> tuple[str, str, str]:
    """(failure class, error code, error message), inferred when the record is missing."""
    code = _text(headers.get(h.ERROR_CODE))
    message = _text(headers.get(h.ERROR_MESSAGE)) or ""
    if code is None and death:
        reason = _text(death.get("reason")) or "dead_lettered"
        queue = _text(death.get("queue")) or "?"
        message = message or f"the broker dead-lettered it from {queue}: {reason}"
        return _text(headers.get(h.FAILURE_CLASS)) or "bug", reason, message
    code = code or "unknown"
    inferred = "bug" if code in {"handler_failed", "delivery_limit"} else "invalid"
    return _text(headers.get(h.FAILURE_CLASS)) or inferred, code, message


def _attempts(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError, OverflowError):  # a double infinity, say
        return None


def read(
    dlq: str,
    body: bytes,
    headers: Mapping[str, Any],
    props: Properties,
    commands: Container[str] = (),
    reserved: re.Pattern[str] | None = None,
) -> DeadLetter:
    """The dead letter in ``dlq`` with this body, headers and properties.

    ``commands`` are the names a routing key may give, ``reserved`` the saga steps' ids.
    """
    death = _first_death(headers)
    failure_class, code, message = _failure(headers, death)
    routing_keys = death.get("routing-keys")
    death_key = _text(routing_keys[0]) if isinstance(routing_keys, list) and routing_keys else None
    routing_key = _text(headers.get(h.ORIGINAL_ROUTING_KEY)) or death_key or ""
    own_id, _ = message_id_of(headers, props.message_id, reserved)
    return DeadLetter(
        id=_text(headers.get(h.DLQ_ID)) or fallback_id(body, headers, props),
        dlq=dlq,
        original_queue=_text(headers.get(h.ORIGINAL_QUEUE))
        or _text(death.get("queue"))
        or dlq.removesuffix(DLQ_SUFFIX),
        original_routing_key=routing_key,
        failure_class=failure_class,
        error_code=code,
        error_message=message,
        command=command_name(headers, routing_key, props.type, commands),
        message_id=own_id,
        failed_at=_text(headers.get(h.FAILED_AT)) or _text(death.get("time")),
        attempts=_attempts(headers.get(h.ATTEMPTS)),
        body=body,
        headers=dict(headers),
        properties=props,
    )


def from_delivery(
    message: AbstractIncomingMessage,
    dlq: str,
    tag: int = 0,
    commands: Container[str] = (),
    reserved: re.Pattern[str] | None = None,
) -> DeadLetter:
    """The letter as read from ``dlq``; one whose own properties cannot be decoded (the
    broker dead-lettered it before this worker could read it) says so in its headers."""
    headers = dict(message.headers or {})
    undecodable = headers.pop(UNDECODABLE, None)
    if isinstance(undecodable, Undecodable):
        headers[h.UNDECODABLE_PROPERTIES] = bytearray(undecodable.raw)
        headers.setdefault(h.ERROR_CODE, "undecodable_properties")
        headers.setdefault(h.ERROR_MESSAGE, undecodable.describe())
    props = Properties(
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        reply_to=message.reply_to,
        type=message.type,
        timestamp=message.timestamp,
        priority=message.priority,
        app_id=message.app_id,
        user_id=message.user_id,
    )
    return replace(read(dlq, message.body, headers, props, commands, reserved), tag=tag)
