"""A copy the worker publishes fits in one frame, and says what it lost to fit."""

from __future__ import annotations

import pytest
from aio_pika import Message

from worker.messaging import headers as h
from worker.messaging import wire
from worker.messaging.copies import FRAME_OVERHEAD, fitted

FRAME_MAX = 131_072
OWN = {h.DLQ_ID, h.ERROR_CODE, h.FAILURE_CLASS}


def size(message: Message) -> int:
    return len(message.properties.marshal()) + FRAME_OVERHEAD


def letter(**headers: object) -> Message:
    wire.install()
    record = {h.DLQ_ID: "d1", h.ERROR_CODE: "malformed_json", h.FAILURE_CLASS: "invalid"}
    return Message(b"{", headers={**record, **headers}, message_id="m-1")


def test_a_copy_that_fits_is_left_alone() -> None:
    message = letter(note="small")
    assert fitted(message, FRAME_MAX, OWN).headers == message.headers
    assert h.TRIMMED not in message.headers


def test_the_stack_and_the_error_message_go_before_any_header_of_the_client() -> None:
    message = letter(
        **{h.STACK: "s" * 70_000, h.ERROR_MESSAGE: "e" * 2_000, "client": "c" * 60_000}
    )
    trimmed = fitted(message, FRAME_MAX, {*OWN, h.STACK, h.ERROR_MESSAGE})
    assert size(trimmed) <= FRAME_MAX
    assert trimmed.headers["client"] == "c" * 60_000
    assert h.STACK not in trimmed.headers
    assert trimmed.headers[h.TRIMMED].startswith(f"header {h.STACK} (70011 bytes)")


def test_the_largest_client_headers_go_next_and_the_reason_always_stays() -> None:
    trimmed = fitted(letter(big="b" * 131_100, small="s"), FRAME_MAX, OWN)
    assert size(trimmed) <= FRAME_MAX
    assert "big" not in trimmed.headers
    assert trimmed.headers["small"] == "s"
    assert trimmed.headers[h.ERROR_CODE] == "malformed_json"
    assert "header big (131109 bytes)" in trimmed.headers[h.TRIMMED]


@pytest.mark.parametrize("name", [h.ORIGINAL_EXCHANGE, h.COMMAND, "message-id", h.DLQ_ID])
def test_a_client_header_named_like_the_workers_own_is_cut_like_any_other(name: str) -> None:
    message = letter()
    message.headers = {**message.headers, name: "z" * 131_100} | {
        key: value for key, value in message.headers.items() if key != name
    }
    own = OWN - {name}
    trimmed = fitted(message, FRAME_MAX, own)
    assert size(trimmed) <= FRAME_MAX
    assert name not in trimmed.headers


def test_thousands_of_small_headers_are_cut_until_the_copy_fits() -> None:
    many = {f"h{i:05d}": "v" for i in range(26_000)}
    trimmed = fitted(letter(**many), FRAME_MAX, OWN)
    assert size(trimmed) <= FRAME_MAX
    assert trimmed.headers[h.ERROR_CODE] == "malformed_json"
    assert len(trimmed.headers[h.TRIMMED].encode()) <= 1024


def test_an_unlimited_frame_size_cuts_nothing() -> None:
    message = letter(big="b" * 200_000)
    assert fitted(message, 0, OWN).headers["big"] == "b" * 200_000


def test_a_client_header_named_stack_is_cut_once_however_many_cuts_follow() -> None:
    others = {f"h{i:03d}": "o" * 560 for i in range(230)}
    trimmed = fitted(letter(**{h.STACK: "s" * 600}, **others), FRAME_MAX, OWN)
    assert size(trimmed) <= FRAME_MAX
    assert h.STACK not in trimmed.headers


def test_a_message_id_header_that_is_the_id_is_never_cut() -> None:
    many = {f"h{i:04d}": "v" * 20 for i in range(6_000)}
    trimmed = fitted(letter(**many, **{"message-id": "order-1"}), FRAME_MAX, {*OWN, "message-id"})
    assert size(trimmed) <= FRAME_MAX
    assert trimmed.headers["message-id"] == "order-1"


def test_a_small_frame_still_takes_the_reason() -> None:
    trimmed = fitted(letter(**{h.ERROR_MESSAGE: "e" * 2000}, big="b" * 10_000), 4096, OWN)
    assert size(trimmed) <= 4096
    assert trimmed.headers[h.ERROR_CODE] == "malformed_json"
