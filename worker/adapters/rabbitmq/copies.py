"""The copies the worker publishes of a delivery (retry rounds, dead letters): faithful,
and small enough for one frame.

Every property is kept, except two that would change what happens to the copy:
an ``expiration`` (the dead letter would expire) and a ``user_id`` that is not
the worker's own user (the broker refuses it); those are kept as headers. A
content header must fit in one frame: RabbitMQ closes the whole connection on a
bigger one, so a copy over the limit is trimmed (the stack first, then the error
message, then the raw bytes of undecodable properties, then the largest of the
original headers) and says in ``trimmed`` what was cut.
"""

from __future__ import annotations

from typing import Any

from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractChannel
from pamqp import encode

from worker.adapters.rabbitmq import headers as h
from worker.adapters.rabbitmq.delivery import Delivery

#: A frame's own bytes (type, channel, size, end) and a content header's fixed part.
FRAME_OVERHEAD = 8 + 12
#: Room kept for the ``trimmed`` header itself.
TRIM_NOTE_ROOM = 1024
SHORT_ERROR_MESSAGE = 200
#: Never cut: without them the letter has no reason and no way back.
ESSENTIAL = frozenset(
    {h.DLQ_ID, h.FAILURE_CLASS, h.ERROR_CODE, h.ORIGINAL_QUEUE, h.COMMAND, h.ATTEMPTS}
    | set(h.SEALED)
    | {"message-id"}
)


async def publishing_limits(channel: AbstractChannel) -> tuple[int, str | None]:
    """(the negotiated frame size, the connection's user) of ``channel``."""
    underlay = await channel.get_underlay_channel()
    connection = underlay.connection
    return connection.connection_tune.frame_max, connection.url.user


def copy_of(
    delivery: Delivery, headers: dict[str, Any], publisher: str | None, type_: str | None = None
) -> Message:
    source = delivery.message
    headers = dict(headers)
    user_id = source.user_id
    if user_id and user_id != publisher:
        headers[h.ORIGINAL_USER_ID] = user_id
        user_id = None
    if isinstance(source.expiration, int | float):  # seconds, as aio-pika decodes it
        headers[h.ORIGINAL_EXPIRATION] = str(round(source.expiration * 1000))
    return Message(
        source.body,
        headers=headers,
        content_type=source.content_type,
        content_encoding=source.content_encoding,
        message_id=source.message_id,
        correlation_id=source.correlation_id,
        reply_to=source.reply_to,
        type=type_ if type_ is not None else source.type,
        timestamp=source.timestamp,
        priority=source.priority,
        app_id=source.app_id,
        user_id=user_id,
        delivery_mode=DeliveryMode.PERSISTENT,
    )


def fitted(message: Message, frame_max: int) -> Message:
    """``message``, trimmed until its content header fits in one ``frame_max`` frame."""
    budget = frame_max - FRAME_OVERHEAD
    if _size(message) <= budget:
        return message
    budget -= TRIM_NOTE_ROOM
    headers = dict(message.headers)
    cuts: list[str] = []
    for cut in _cuts(headers):
        if _size(message, headers) <= budget:
            break
        cuts.append(cut(headers))
    headers[h.TRIMMED] = "; ".join(cuts)[: TRIM_NOTE_ROOM - 64]
    message.headers = headers
    return message


def _cuts(headers: dict[str, Any]) -> list[Any]:
    def drop(name: str) -> Any:
        def cut(found: dict[str, Any]) -> str:
            size = len(encode.encode_table_value(found.pop(name)))
            return f"header {name} ({size} bytes)"

        return cut

    def shorten_error(found: dict[str, Any]) -> str:
        text = str(found.get(h.ERROR_MESSAGE, ""))
        found[h.ERROR_MESSAGE] = text[:SHORT_ERROR_MESSAGE]
        return f"error-message cut from {len(text)} to {SHORT_ERROR_MESSAGE} characters"

    ordered = [drop(h.STACK)] if h.STACK in headers else []
    if h.ERROR_MESSAGE in headers:
        ordered.append(shorten_error)
    if h.UNDECODABLE_PROPERTIES in headers:
        ordered.append(drop(h.UNDECODABLE_PROPERTIES))
    others = [
        name for name in headers if name not in ESSENTIAL and name not in h.DEAD_LETTER_RECORD
    ]
    others.sort(key=lambda name: len(encode.encode_table_value(headers[name])), reverse=True)
    return ordered + [drop(name) for name in others]


def _size(message: Message, headers: dict[str, Any] | None = None) -> int:
    properties = message.properties
    if headers is not None:
        properties.headers = headers
    return len(properties.marshal())
