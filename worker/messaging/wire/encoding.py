"""Every header value pamqp decodes can be encoded again, as the same wire type.

Patched (pamqp 4.0.1): ``pamqp.encode.encode_table_value`` and ``field_table``
(also as ``METHODS['table']``). Unpatched, a copy of a received message can fail
to publish or change on the way: a ``d`` double is written as a 32-bit ``f``
(``OverflowError`` for 1e300, lost precision otherwise), a non-UTF-8 ``S`` long
string (which pamqp decodes as ``bytes``) cannot be written at all, and field
names over 128 bytes are cut to 128, although AMQP short strings and RabbitMQ
allow 255. A value keeps its meaning, not always its exact type: an ``f`` float
comes back as a ``d`` double, an integer in the narrowest type that holds it.
"""

from __future__ import annotations

import struct
from typing import Any

from pamqp import common, encode

from worker.messaging.wire.timestamps import WireTimestamp, encode_timestamp

_original_value = encode.encode_table_value
MAX_FIELD_NAME = 255


def install() -> None:
    encode.encode_table_value = encode_table_value
    encode.field_table = field_table
    encode.METHODS["table"] = field_table


def encode_table_value(value: Any) -> bytes:
    """pamqp's encoder, but doubles stay doubles and raw long strings stay long strings."""
    if isinstance(value, float):
        return b"d" + struct.pack(">d", value)
    if isinstance(value, bytes):
        return b"S" + struct.pack(">I", len(value)) + value
    if isinstance(value, WireTimestamp):
        return b"T" + encode_timestamp(value)  # the number that came, not pamqp's reading
    return bytes(_original_value(value))


def field_table(value: common.FieldTable) -> bytes:
    if not value:
        return common.Struct.integer.pack(0)
    if not isinstance(value, dict):
        raise TypeError(f"dict required, received {type(value)}")
    data = []
    for key, item in sorted(value.items()):
        name = key.encode("utf-8")
        if len(name) > MAX_FIELD_NAME:
            raise TypeError(f"field name of {len(name)} bytes: at most {MAX_FIELD_NAME} fit")
        data.append(struct.pack("B", len(name)) + name)
        try:
            data.append(encode_table_value(item))
        except TypeError as err:
            raise TypeError(f"{key} error: {err}") from err
    output = b"".join(data)
    return common.Struct.integer.pack(len(output)) + output
