"""Timestamps that go back on the wire as the number that came.

pamqp reads a timestamp above 2**32 as milliseconds (dividing it by 1000) and
writes every ``datetime`` back as whole seconds, so a copy would carry another
number than the original. :class:`WireTimestamp` is the ``datetime`` pamqp makes,
remembering the integer it was read from; encoding writes that integer again.
"""

from __future__ import annotations

import datetime
import struct
from typing import Any

from pamqp import common, decode, encode

_original_decode = decode.timestamp
_original_encode = encode.timestamp


class WireTimestamp(datetime.datetime):
    """A ``datetime`` that also knows the 64-bit value it was decoded from."""

    wire: int


def install() -> None:
    decode.timestamp = decode_timestamp
    decode.METHODS["timestamp"] = decode_timestamp
    decode.TABLE_MAPPING[b"T"] = decode_timestamp
    encode.timestamp = encode_timestamp
    encode.METHODS["timestamp"] = encode_timestamp


def decode_timestamp(value: bytes) -> tuple[int, datetime.datetime]:
    consumed, read = _original_decode(value)
    stamp = WireTimestamp.combine(read.date(), read.timetz())
    stamp.wire = common.Struct.timestamp.unpack(value[0:8])[0]
    return consumed, stamp


def encode_timestamp(value: Any) -> bytes:
    wire = getattr(value, "wire", None)  # a copy of a WireTimestamp (replace, +) has none
    if isinstance(wire, int):
        return struct.pack(">Q", wire)
    return bytes(_original_encode(value))
