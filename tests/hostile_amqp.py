"""A client that can write what ours cannot read: AMQP 0-9-1 content headers written
and read byte by byte, for hostile input.

The worker's client (aio-pika on pamqp) and even pika cannot write everything the
broker accepts: pika has no double, no unsigned or short integer types, no
timestamp past the year 9999, and its reader gives a ``d`` double back as an
integer, raises on such a timestamp and recurses into nested tables. So the
scenario encodes the properties itself (:func:`encode_properties`) and hands the
bytes to pika (:class:`WireProperties`); reading, :func:`reading_raw` makes pika
keep the bytes it received and decode them here, tolerantly (:func:`decode_properties`).

Field values carry their wire type (:class:`Field`): tags as RabbitMQ reads them
(t b B s u I i l f d D S x A T F V).
"""

from __future__ import annotations

import contextlib
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pika  # type: ignore[import-untyped]

#: RabbitMQ's default ``frame_max``. A content header frame is 7 bytes of frame
#: header, 12 of class, weight and body size, the properties, and a frame end.
FRAME_MAX = 131072
MAX_PROPERTIES = FRAME_MAX - 20
#: Tables deeper than this are kept as raw bytes when read, not decoded.
MAX_DEPTH = 64

#: The basic class's properties in wire order (flag bit 15 first): name, kind.
PROPERTIES = (
    ("content_type", "shortstr"),
    ("content_encoding", "shortstr"),
    ("headers", "table"),
    ("delivery_mode", "octet"),
    ("priority", "octet"),
    ("correlation_id", "shortstr"),
    ("reply_to", "shortstr"),
    ("expiration", "shortstr"),
    ("message_id", "shortstr"),
    ("timestamp", "timestamp"),
    ("type", "shortstr"),
    ("user_id", "shortstr"),
    ("app_id", "shortstr"),
    ("cluster_id", "shortstr"),
)
_FLAG = {name: 1 << (15 - i) for i, (name, _) in enumerate(PROPERTIES)}

#: Fixed-size field types: tag -> struct format.
_FIXED = {
    "t": ">B",
    "b": ">b",
    "B": ">B",
    "s": ">h",
    "u": ">H",
    "I": ">i",
    "i": ">I",
    "l": ">q",
    "f": ">f",
    "d": ">d",
    "T": ">Q",
}
#: Tags whose values mean the same thing: a copy may write an integer or a string
#: with another tag of its family and still keep the value.
FAMILIES = {tag: "int" for tag in "bBsuIil"} | {"f": "float", "d": "float"}


@dataclass(frozen=True)
class Field:
    """A field-table value with its wire type tag."""

    tag: str
    value: Any


@dataclass(frozen=True)
class Opaque:
    """A table nested deeper than :data:`MAX_DEPTH`, kept as its raw bytes."""

    raw: bytes


def _text(raw: bytes) -> str | bytes:
    """UTF-8 text when it is, else the bytes themselves."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value


def shortstr(value: str | bytes) -> bytes:
    raw = _bytes(value)
    if len(raw) > 255:
        raise ValueError(f"a short string holds at most 255 bytes, not {len(raw)}")
    return struct.pack(">B", len(raw)) + raw


def typed(value: Any) -> Field:
    """``value`` with the tag a plain Python value gets (a :class:`Field` as it is)."""
    if isinstance(value, Field):
        return value
    if isinstance(value, bool):
        return Field("t", value)
    if isinstance(value, int):
        return Field("I" if -(2**31) <= value < 2**31 else "l", value)
    if isinstance(value, float):
        return Field("d", value)
    if isinstance(value, Decimal):
        return Field("D", value)
    if isinstance(value, str):
        return Field("S", value)
    if isinstance(value, bytes | bytearray):
        return Field("x", bytes(value))
    if isinstance(value, dict):
        return Field("F", value)
    if isinstance(value, list | tuple):
        return Field("A", list(value))
    if value is None:
        return Field("V", None)
    raise TypeError(f"no AMQP field type for {value!r}")


def encode_value(value: Any) -> bytes:
    field = typed(value)
    tag, item = field.tag, field.value
    if tag in _FIXED:
        return tag.encode() + struct.pack(_FIXED[tag], int(item) if tag == "t" else item)
    if tag in "Sx":
        raw = _bytes(item)
        return tag.encode() + struct.pack(">I", len(raw)) + raw
    if tag == "D":
        exponent = Decimal(item).as_tuple().exponent
        assert isinstance(exponent, int)
        places = max(0, -exponent)
        raw = int(Decimal(item).scaleb(places))
        return b"D" + struct.pack(">Bi", places, raw)
    if tag == "F":
        return b"F" + encode_table(item)
    if tag == "A":
        payload = b"".join(encode_value(v) for v in item)
        return b"A" + struct.pack(">I", len(payload)) + payload
    if tag == "V":
        return b"V"
    raise ValueError(f"unknown field type {tag!r}")


def encode_table(table: dict[str | bytes, Any] | bytes | Opaque) -> bytes:
    """A field table; keys may be ``bytes`` (written as they are); ``bytes`` for the
    whole table is taken as an already encoded one."""
    if isinstance(table, Opaque):
        return table.raw
    if isinstance(table, bytes):
        return table
    payload = b"".join(shortstr(key) + encode_value(value) for key, value in table.items())
    return struct.pack(">I", len(payload)) + payload


def nested(depth: int, leaf: dict[str, Any] | None = None) -> bytes:
    """An encoded table ``{"n": {"n": ... leaf}}`` nested ``depth`` tables deep."""
    inner = encode_table(leaf or {"v": Field("b", 1)})
    for _ in range(depth - 1):
        inner = encode_table({"n": Field("F", inner)})
    return inner


def encode_properties(**properties: Any) -> bytes:
    """The properties part of a content header (flags, then each one given, not None).

    Short strings may be ``bytes`` (any bytes at all), the timestamp any 64-bit
    number, ``headers`` a dict (keys ``str`` or ``bytes``) or an encoded table.
    """
    unknown = set(properties) - set(_FLAG)
    if unknown:
        raise TypeError(f"not AMQP basic properties: {sorted(unknown)}")
    flags = 0
    parts = []
    for name, kind in PROPERTIES:
        value = properties.get(name)
        if value is None:
            continue
        flags |= _FLAG[name]
        if kind == "shortstr":
            parts.append(shortstr(value))
        elif kind == "table":
            parts.append(encode_table(value))
        elif kind == "octet":
            parts.append(struct.pack(">B", value))
        else:
            parts.append(struct.pack(">Q", value))
    raw = struct.pack(">H", flags) + b"".join(parts)
    if len(raw) > MAX_PROPERTIES:
        raise ValueError(f"{len(raw)} bytes of properties do not fit a {FRAME_MAX}-byte frame")
    return raw


def _decode_value(data: bytes, offset: int, depth: int) -> tuple[Field, int]:
    tag = chr(data[offset])
    offset += 1
    if tag in _FIXED:
        fmt = _FIXED[tag]
        (value,) = struct.unpack_from(fmt, data, offset)
        offset += struct.calcsize(fmt)
        return Field(tag, bool(value) if tag == "t" else value), offset
    if tag in "Sx":
        (length,) = struct.unpack_from(">I", data, offset)
        raw = data[offset + 4 : offset + 4 + length]
        return Field(tag, _text(raw) if tag == "S" else raw), offset + 4 + length
    if tag == "D":
        places, raw_value = struct.unpack_from(">Bi", data, offset)
        return Field("D", Decimal(raw_value).scaleb(-places)), offset + 5
    if tag == "F":
        table, offset = _decode_table(data, offset, depth + 1)
        return Field("F", table), offset
    if tag == "A":
        (length,) = struct.unpack_from(">I", data, offset)
        end, offset, items = offset + 4 + length, offset + 4, []
        while offset < end:
            item, offset = _decode_value(data, offset, depth + 1)
            items.append(item)
        return Field("A", items), end
    if tag == "V":
        return Field("V", None), offset
    raise ValueError(f"unknown field type {tag!r} at byte {offset - 1}")


def _decode_table(data: bytes, offset: int, depth: int = 0) -> tuple[Any, int]:
    (length,) = struct.unpack_from(">I", data, offset)
    end = offset + 4 + length
    if depth > MAX_DEPTH:
        return Opaque(data[offset:end]), end
    offset += 4
    table: dict[str | bytes, Field] = {}
    while offset < end:
        size = data[offset]
        key = _text(data[offset + 1 : offset + 1 + size])
        value, offset = _decode_value(data, offset + 1 + size, depth)
        table[key] = value
    return table, end


def decode_properties(raw: bytes) -> dict[str, Any]:
    """Every property present: short strings as text (``bytes`` when not UTF-8),
    octets and the timestamp as numbers, headers as ``{key: Field}``. What cannot be
    decoded is under ``"undecodable"`` (the reason), with the properties before it."""
    found: dict[str, Any] = {}
    offset, flags, shift = 0, 0, 0
    try:
        while True:
            (word,) = struct.unpack_from(">H", raw, offset)
            offset += 2
            flags |= (word & 0xFFFE) << shift
            if not word & 1:
                break
            shift += 16
        for name, kind in PROPERTIES:
            if not flags & _FLAG[name]:
                continue
            if kind == "shortstr":
                size = raw[offset]
                found[name] = _text(raw[offset + 1 : offset + 1 + size])
                offset += 1 + size
            elif kind == "table":
                found[name], offset = _decode_table(raw, offset)
            elif kind == "octet":
                found[name] = raw[offset]
                offset += 1
            else:
                (found[name],) = struct.unpack_from(">Q", raw, offset)
                offset += 8
    except (struct.error, IndexError, ValueError) as error:
        found["undecodable"] = f"{type(error).__name__}: {error}"
    return found


def plain(value: Any) -> Any:
    """A decoded value without its tags (tables as dicts, arrays as lists)."""
    if isinstance(value, Field):
        return plain(value.value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def same_value(sent: Any, got: Any) -> bool:
    """Whether ``got`` keeps what ``sent`` meant: the same value, and the same tag or
    one of its family (an integer stays an integer, a double a floating-point number,
    a byte array a byte array)."""
    sent, got = typed(sent), typed(got)
    if FAMILIES.get(sent.tag, sent.tag) != FAMILIES.get(got.tag, got.tag):
        return False
    if sent.tag == "F":
        a, b = sent.value, got.value
        if not (isinstance(a, dict) and isinstance(b, dict)):  # encoded, or too deep
            return encode_value(sent) == encode_value(got)
        return (
            isinstance(b, dict)
            and set(map(_bytes, a)) == set(map(_bytes, b))
            and all(same_value(a[k], _by_bytes(b, k)) for k in a)
        )
    if sent.tag == "A":
        return len(sent.value) == len(got.value) and all(
            same_value(x, y) for x, y in zip(sent.value, got.value, strict=True)
        )
    if sent.tag in "Sx":
        return _bytes(sent.value) == _bytes(got.value)
    if sent.tag in "fd":
        return math.isclose(sent.value, got.value, rel_tol=1e-6 if "f" in sent.tag + got.tag else 0)
    return bool(sent.value == got.value)


def _by_bytes(table: dict[Any, Any], key: str | bytes) -> Any:
    for candidate, value in table.items():
        if _bytes(candidate) == _bytes(key):
            return value
    raise KeyError(key)


class WireProperties(pika.spec.BasicProperties):  # type: ignore[misc]
    """Properties pika sends as exactly the given bytes, and keeps as it received them.

    ``fields`` holds what :func:`decode_properties` made of them; the usual
    attributes (``message_id``...) are set from it, ``headers`` with plain values.
    """

    def __init__(self, raw: bytes = b"\x00\x00") -> None:
        super().__init__()
        self.raw = raw
        self.fields: dict[str, Any] = {}

    def encode(self) -> list[bytes]:
        return [self.raw]

    def decode(self, encoded: bytes, offset: int = 0) -> WireProperties:
        self.raw = bytes(encoded[offset:])
        self.fields = decode_properties(self.raw)
        for name, _ in PROPERTIES:
            value = self.fields.get(name)
            setattr(self, name, plain(value) if name == "headers" else value)
        return self


@contextlib.contextmanager
def reading_raw() -> Iterator[None]:
    """While inside, every pika connection of this process reads content headers
    with :class:`WireProperties` (pika looks the class up for each frame)."""
    original = pika.spec.props[pika.spec.BasicProperties.INDEX]
    pika.spec.props[pika.spec.BasicProperties.INDEX] = WireProperties
    try:
        yield
    finally:
        pika.spec.props[pika.spec.BasicProperties.INDEX] = original


def publish_raw(url: str, exchange: str, routing_key: str, body: bytes, raw: bytes) -> None:
    """Publish ``body`` with the content-header properties ``raw`` (confirmed, mandatory)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(exchange, routing_key, body, WireProperties(raw), mandatory=True)
    finally:
        connection.close()


def publish_with_pika(
    url: str, exchange: str, routing_key: str | bytes, body: bytes, **props: Any
) -> None:
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
