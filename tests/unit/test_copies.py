"""A copy the worker publishes fits in one frame, and says what it lost to fit."""

from __future__ import annotations

from aio_pika import Message

from worker.adapters.rabbitmq import headers as h
from worker.adapters.rabbitmq import wire
from worker.adapters.rabbitmq.copies import FRAME_OVERHEAD, fitted

FRAME_MAX = 131_072


def size(message: Message) -> int:
    return len(message.properties.marshal()) + FRAME_OVERHEAD


def letter(**headers: object) -> Message:
    wire.install()
    record = {h.DLQ_ID: "d1", h.ERROR_CODE: "malformed_json", h.FAILURE_CLASS: "invalid"}
    return Message(b"{", headers={**record, **headers}, message_id="m-1")


def test_a_copy_that_fits_is_left_alone() -> None:
    message = letter(note="small")
    assert fitted(message, FRAME_MAX).headers == message.headers
    assert h.TRIMMED not in message.headers


def test_the_stack_and_the_error_message_go_before_any_header_of_the_client() -> None:
    message = letter(
        **{h.STACK: "s" * 70_000, h.ERROR_MESSAGE: "e" * 2_000, "client": "c" * 60_000}
    )
    trimmed = fitted(message, FRAME_MAX)
    assert size(trimmed) <= FRAME_MAX
    assert trimmed.headers["client"] == "c" * 60_000
    assert h.STACK not in trimmed.headers
    assert trimmed.headers[h.TRIMMED].startswith(f"header {h.STACK} (70005 bytes)")


def test_the_largest_client_headers_go_next_and_the_reason_always_stays() -> None:
    trimmed = fitted(letter(big="b" * 131_100, small="s"), FRAME_MAX)
    assert size(trimmed) <= FRAME_MAX
    assert "big" not in trimmed.headers
    assert trimmed.headers["small"] == "s"
    assert trimmed.headers[h.ERROR_CODE] == "malformed_json"
    assert "header big (131105 bytes)" in trimmed.headers[h.TRIMMED]
