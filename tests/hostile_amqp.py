"""A client that can write what ours cannot read: raw AMQP property and field values.

pika encodes what it is given (``bytes`` as they are), and where even pika refuses
(a double, a table nested deeper than its recursion), these encoders write the
wire format of AMQP 0-9-1 directly. :func:`publish_raw` sends a content header
made of such bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

import pika

#: Property flags, in wire order (AMQP 0-9-1, basic class).
FLAGS = {
    "content_type": 1 << 15,
    "content_encoding": 1 << 14,
    "headers": 1 << 13,
    "delivery_mode": 1 << 12,
    "priority": 1 << 11,
    "correlation_id": 1 << 10,
    "reply_to": 1 << 9,
    "expiration": 1 << 8,
    "message_id": 1 << 7,
    "timestamp": 1 << 6,
    "type": 1 << 5,
    "user_id": 1 << 4,
    "app_id": 1 << 3,
}


def shortstr(value: bytes | str) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack("B", len(raw)) + raw


def longstr(value: bytes | str) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack(">I", len(raw)) + raw


def table(items: Iterable[tuple[bytes | str, bytes]]) -> bytes:
    """A field table from (name, already typed value) pairs: see :func:`value`."""
    payload = b"".join(shortstr(name) + typed for name, typed in items)
    return struct.pack(">I", len(payload)) + payload


def value(tag: str, payload: bytes) -> bytes:
    return tag.encode() + payload


def double(number: float) -> bytes:
    return value("d", struct.pack(">d", number))


def timestamp(seconds: int) -> bytes:
    return struct.pack(">Q", seconds)


def nested_table(depth: int) -> bytes:
    """``{"n": {"n": ... {"v": 1}}}``, ``depth`` tables deep."""
    inner = table([("v", value("b", struct.pack("b", 1)))])
    for _ in range(depth):
        inner = table([("n", value("F", inner))])
    return inner


def properties(**fields: bytes) -> bytes:
    """Raw properties: flags, then each given field's already encoded bytes, in wire order."""
    flags = 0
    parts = []
    for name, flag in FLAGS.items():
        if name in fields:
            flags |= flag
            parts.append(fields[name])
    return struct.pack(">H", flags) + b"".join(parts)


class _RawProperties(pika.spec.BasicProperties):  # type: ignore[misc]
    def __init__(self, raw: bytes) -> None:
        super().__init__()
        self._raw = raw

    def encode(self) -> list[bytes]:
        return [self._raw]


def publish_raw(url: str, exchange: str, routing_key: str, body: bytes, raw: bytes) -> None:
    """Publish ``body`` with the raw content-header properties ``raw`` (confirmed)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(exchange, routing_key, body, _RawProperties(raw), mandatory=True)
    finally:
        connection.close()


def publish_with_pika(url: str, exchange: str, routing_key: str, body: bytes, **props: Any) -> None:
    """Publish through pika's own encoder (``bytes`` go out as they are)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            exchange, routing_key, body, pika.BasicProperties(**props), mandatory=True
        )
    finally:
        connection.close()
