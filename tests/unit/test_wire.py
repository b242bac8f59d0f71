"""The wire patches: every content header decodes, every decoded value encodes as it came."""

from __future__ import annotations

import struct
from decimal import Decimal

import pytest
from pamqp import commands, decode, encode, frame

from tests.hostile_amqp import Field, encode_properties, nested
from worker.messaging import wire
from worker.messaging.wire import UNDECODABLE, Undecodable


@pytest.fixture(autouse=True)
def patched() -> None:
    wire.install()


def header_frame(properties: bytes, body_size: int = 7) -> bytes:
    return struct.pack(">HHQ", 60, 0, body_size) + properties


def test_a_header_pamqp_can_read_is_read_as_before() -> None:
    props = encode_properties(message_id="m-1", priority=5)
    decoded = frame._unmarshal_header_frame(header_frame(props))
    assert (decoded.properties.message_id, decoded.properties.priority) == ("m-1", 5)
    assert UNDECODABLE not in (decoded.properties.headers or {})


def test_an_undecodable_property_is_named_and_the_others_are_still_read() -> None:
    props = encode_properties(
        correlation_id="c-1", message_id=b"\xff", timestamp=2**63 - 1, app_id="billing"
    )
    decoded = frame._unmarshal_header_frame(header_frame(props, body_size=42))
    found = decoded.properties.headers[UNDECODABLE]
    assert isinstance(found, Undecodable)
    assert found.raw == props
    assert [problem.split(":")[0] for problem in found.problems] == ["message_id", "timestamp"]
    assert (decoded.properties.correlation_id, decoded.properties.app_id) == ("c-1", "billing")
    assert decoded.body_size == 42


def test_a_table_too_deep_to_decode_is_named_without_a_recursion_error() -> None:
    props = encode_properties(headers=nested(600), message_id="deep")
    decoded = frame._unmarshal_header_frame(header_frame(props))
    found = decoded.properties.headers[UNDECODABLE]
    assert found.problems == ("headers: nested too deeply to decode",)
    assert decoded.properties.message_id == "deep"


@pytest.mark.parametrize("depth", [65, 400])
def test_a_table_too_deep_to_encode_again_is_refused_though_pamqp_reads_it(depth: int) -> None:
    props = encode_properties(headers=nested(depth), message_id="deep")
    decoded = frame._unmarshal_header_frame(header_frame(props))
    found = decoded.properties.headers[UNDECODABLE]
    assert found.problems == ("headers: tables and arrays nested more than 64 deep",)
    assert found.raw == props


def test_arrays_nested_too_deep_to_encode_again_are_refused_too() -> None:
    deep = Field("A", [1])
    for _ in range(100):  # counted as depth 1 before; 340 and more could not be encoded
        deep = Field("A", [deep])
    props = encode_properties(headers={"deep": deep})
    decoded = frame._unmarshal_header_frame(header_frame(props))
    assert decoded.properties.headers[UNDECODABLE].problems == (
        "headers: tables and arrays nested more than 64 deep",
    )


def test_a_timestamp_copied_or_shifted_is_still_written() -> None:
    _, read = decode.timestamp(struct.pack(">Q", 1_700_000_000_123))
    assert encode.encode_table_value(read.replace(microsecond=0))[:1] == b"T"


def test_a_table_64_deep_is_read_and_written_back() -> None:
    props = encode_properties(headers=nested(64))
    decoded = frame._unmarshal_header_frame(header_frame(props))
    assert UNDECODABLE not in decoded.properties.headers
    assert encode.field_table(decoded.properties.headers) == nested(64)


@pytest.mark.parametrize("wire_value", [1_600_000_000, 2**32, 1_700_000_000_123], ids=str)
def test_a_timestamp_is_written_back_as_the_number_that_came(wire_value: int) -> None:
    table = struct.pack(">I", 11) + b"\x01tT" + struct.pack(">Q", wire_value)
    _, read = decode.field_table(table)
    assert encode.field_table(read) == table
    decoded = frame._unmarshal_header_frame(header_frame(encode_properties(timestamp=wire_value)))
    assert decoded.properties.marshal()[2:] == struct.pack(">Q", wire_value)


def test_a_routing_key_that_is_not_utf8_no_longer_fails_the_delivery() -> None:
    deliver = commands.Basic.Deliver("ctag", 5, True, "commands", "rk")
    raw = struct.pack(">I", deliver.index) + deliver.marshal().replace(b"\x02rk", b"\x02\xff\xfe")
    read = frame._unmarshal_method_frame(raw)
    assert (read.consumer_tag, read.delivery_tag, read.redelivered) == ("ctag", 5, True)
    assert (read.exchange, read.routing_key) == ("commands", "\ufffd\ufffd")


def test_a_delivery_mode_aio_pika_has_no_name_for_is_read_as_not_persistent() -> None:
    decoded = frame._unmarshal_header_frame(header_frame(encode_properties(delivery_mode=7)))
    assert decoded.properties.delivery_mode == 1


@pytest.mark.parametrize(
    "value",
    [1e300, 0.1, float("inf"), b"caf\xe9", bytearray(b"\x00"), Decimal("-1.5"), [1e300, b"\xff"]],
    ids=repr,
)
def test_every_value_pamqp_decodes_is_encoded_back_to_the_same_value(value: object) -> None:
    _, back = decode.field_table(encode.field_table({"v": value}))
    assert back["v"] == value
    assert type(back["v"]) is type(value)


def test_a_field_name_of_up_to_255_bytes_is_kept_whole() -> None:
    name = "é" * 127  # 254 bytes
    _, back = decode.field_table(encode.field_table({name: 1}))
    assert list(back) == [name]
    with pytest.raises(TypeError, match="at most 255"):
        encode.field_table({"x" * 256: 1})
