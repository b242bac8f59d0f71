"""A content header that pamqp cannot decode becomes a message the worker can settle.

Patched: ``pamqp.frame._unmarshal_header_frame`` (pamqp 4.0.1). Unpatched, it raises
(or lets ``OverflowError``/``RecursionError`` escape) and aiormq closes the
connection. Patched, it decodes every property it can, one at a time, and puts an
:class:`Undecodable` under the :data:`UNDECODABLE` header key naming the ones it
could not, with the raw property bytes. The consumer's delivery reader takes it
out again and dead-letters the message as ``undecodable_properties``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from pamqp import commands, decode, frame, header

#: A lone surrogate can never come out of a strict UTF-8 decode, so no client can
#: send this header key: only the patched decoder sets it.
UNDECODABLE = "\udc80undecodable-properties"
#: Deeper header tables are refused: pamqp decodes a few hundred levels but cannot
#: encode them again (its encoder recurses deeper), and no real header nests so.
MAX_TABLE_DEPTH = 64
#: Bytes each fixed-size AMQP property type takes (short strings and tables say theirs).
_FIXED_SIZE = {"octet": 1, "short": 2, "long": 4, "longlong": 8, "timestamp": 8}


@dataclass(frozen=True)
class Undecodable:
    """What could not be read of a message's properties, and their raw bytes."""

    raw: bytes
    problems: tuple[str, ...]

    def describe(self) -> str:
        return "; ".join(self.problems)


_original = frame._unmarshal_header_frame


def install() -> None:
    frame._unmarshal_header_frame = _total_header_frame


def _total_header_frame(frame_data: bytes) -> header.ContentHeader:
    try:
        content_header: header.ContentHeader = _original(frame_data)
    except Exception as error:  # ValueError, OverflowError, RecursionError, ...
        content_header = _lenient_header(frame_data, error)
    properties = content_header.properties
    if _depth(properties.headers) > MAX_TABLE_DEPTH:
        problem = f"headers: tables and arrays nested more than {MAX_TABLE_DEPTH} deep"
        marked: dict[str, Any] = {UNDECODABLE: Undecodable(bytes(frame_data[12:]), (problem,))}
        properties.headers = marked
    _tolerate(properties)
    return content_header


def _depth(table: object) -> int:
    """How deeply tables and arrays nest in ``table`` (counted without recursion)."""
    deepest, pending = 0, [(table, 1)]
    while pending:
        value, level = pending.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            items = value.values() if isinstance(value, dict) else value
            pending.extend((item, level + 1) for item in items)
    return deepest


def _tolerate(properties: commands.Basic.Properties) -> None:
    """aio-pika turns ``delivery_mode`` into an enum of 1 and 2 and raises on anything
    else, outside any handler; RabbitMQ takes any octet (only 2 means persistent)."""
    if properties.delivery_mode not in (None, 1, 2):
        properties.delivery_mode = 1


def _lenient_header(frame_data: bytes, error: BaseException) -> header.ContentHeader:
    try:
        class_id, weight, body_size = struct.unpack(">HHQ", frame_data[0:12])
        consumed, flags = header.ContentHeader._get_flags(frame_data[12:])
    except (struct.error, ValueError):
        raise error from None  # not even the frame's size: nothing to settle
    raw = frame_data[12:]
    properties, problems = _decode_each(flags, raw[consumed:])
    content_header = header.ContentHeader(weight, body_size, properties)
    content_header.class_id = class_id
    headers: dict[str, Any] = dict(properties.headers or {})
    headers[UNDECODABLE] = Undecodable(bytes(raw), tuple(problems) or (_reason(error),))
    properties.headers = headers
    return content_header


def _decode_each(flags: int, data: bytes) -> tuple[commands.Basic.Properties, list[str]]:
    """Every property that decodes on its own; the others are named and left out."""
    properties = commands.Basic.Properties()
    problems: list[str] = []
    for name in properties.__slots__:
        if not flags & properties.flags[name]:
            continue
        kind = getattr(commands.Basic.Properties, "_" + name)
        size = _size(kind, data)
        try:
            if size > len(data):
                raise ValueError(f"{size} bytes announced, {len(data)} left")
            _, value = decode.by_type(data[:size], kind)
        except Exception as error:
            problems.append(f"{_public(name)}: {_reason(error)}")
        else:
            setattr(properties, name, value)
        data = data[size:]
    return properties, problems


def _size(kind: str, data: bytes) -> int:
    if kind == "shortstr":
        return 1 + (data[0] if data else 0)
    if kind == "table":
        return 4 + (struct.unpack(">I", data[:4])[0] if len(data) >= 4 else 0)
    return _FIXED_SIZE[kind]


def _public(name: str) -> str:
    return "type" if name == "message_type" else name


def _reason(error: BaseException) -> str:
    cause = error.__cause__ or error
    text = str(cause) or type(cause).__name__
    if isinstance(cause, RecursionError):
        text = "nested too deeply to decode"
    return text[:300]
