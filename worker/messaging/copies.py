"""The copies the worker publishes of a delivery (retry rounds, dead letters): faithful,
and small enough for one frame.

Every property is kept, except two that would change what happens to the copy:
an ``expiration`` (the dead letter would expire) and a ``user_id`` that is not
the worker's own user (the broker refuses it); those are kept as headers, and so
are the ``CC``/``BCC`` headers, which would route the copy to more queues. A
content header must fit in one frame: RabbitMQ closes the whole connection on a
bigger one, so a copy over the limit is trimmed (the stack first, then the error
message, then the raw bytes of undecodable properties, then the largest of the
client's headers) and says in ``trimmed`` what was cut. The worker's own headers
are bounded (ids and names of at most 255 bytes), so the reason always fits.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractChannel
from pamqp import encode

from worker.messaging import headers as h
from worker.messaging.delivery import Delivery

#: A frame's own bytes (type, channel, size, end) and a content header's fixed part.
FRAME_OVERHEAD = 8 + 12
#: Room kept for the ``trimmed`` header itself.
TRIM_NOTE_ROOM = 1024
#: RabbitMQ's ``frame_max`` 0 means no limit; a content header still has a 32-bit size.
UNLIMITED_FRAME = 2**32 - 1
SHORT_ERROR_MESSAGE = 200
#: Never cut: without them the letter has no reason and no way back.
ESSENTIAL = frozenset(
    {h.DLQ_ID, h.FAILURE_CLASS, h.ERROR_CODE, h.ERROR_MESSAGE, h.ORIGINAL_QUEUE, h.COMMAND}
    | set(h.SEALED)
    | {"message-id"}  # only when the caller keeps it: when it is the message's id
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
    for routing, kept in h.ROUTING_HEADERS.items():
        if routing in headers:
            headers[kept] = headers.pop(routing)
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


def fitted(message: Message, frame_max: int, own: Collection[str]) -> Message:
    """``message``, trimmed until its content header fits in one ``frame_max`` frame.

    ``own`` names the headers the worker wrote on this copy: the client's go first
    (largest first), the worker's record only as far as it must. Each header's size
    is counted once, so a copy with thousands of headers costs no more than one pass.
    """
    budget = (frame_max or UNLIMITED_FRAME) - FRAME_OVERHEAD
    headers = dict(message.headers)
    sizes = {name: _entry_size(name, value) for name, value in headers.items()}
    message.headers = {}
    rest = len(message.properties.marshal())
    if rest + sum(sizes.values()) <= budget:
        message.headers = headers
        return message
    budget -= TRIM_NOTE_ROOM
    cuts: list[str] = []
    for name in _cut_order(headers, own, sizes):
        if rest + sum(sizes.values()) <= budget:
            break
        if name == h.ERROR_MESSAGE:
            text = str(headers[name])
            headers[name] = text[:SHORT_ERROR_MESSAGE]
            sizes[name] = _entry_size(name, headers[name])
            cuts.append(f"error-message cut from {len(text)} to {SHORT_ERROR_MESSAGE} characters")
        else:
            cuts.append(f"header {name} ({sizes.pop(name)} bytes)")
            del headers[name]
    if rest + sum(sizes.values()) > budget:  # a frame_max near RabbitMQ's 4096 minimum
        headers[h.ERROR_MESSAGE] = str(headers.get(h.ERROR_MESSAGE, ""))[:64]
        cuts.append("error-message cut to 64 characters")
    note = "; ".join(cuts).encode("utf-8")[: TRIM_NOTE_ROOM - 64]
    headers[h.TRIMMED] = note.decode("utf-8", "ignore")
    message.headers = headers
    return message


def _cut_order(headers: dict[str, Any], own: Collection[str], sizes: dict[str, int]) -> list[str]:
    """The stack, a long error message, the raw undecodable bytes, the client's headers
    (largest first), and last whatever the worker wrote beyond the reason itself."""
    first = [h.STACK, h.UNDECODABLE_PROPERTIES]
    if len(str(headers.get(h.ERROR_MESSAGE, ""))) > SHORT_ERROR_MESSAGE:
        first.insert(1, h.ERROR_MESSAGE)
    clients = [n for n in headers if n not in own and n not in first]
    clients.sort(key=sizes.__getitem__, reverse=True)
    last = [n for n in headers if n in own and n not in ESSENTIAL and n not in first]
    return [n for n in first if n in headers] + clients + last


def _entry_size(name: str, value: Any) -> int:
    return 1 + len(name.encode("utf-8")) + len(encode.encode_table_value(value))
