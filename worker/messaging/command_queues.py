"""A queue the worker consumes, with its DLQ and its retry queues, and their names."""

from __future__ import annotations

from aio_pika.abc import AbstractChannel, AbstractQueue

#: The broker dead-letters a message redelivered this often (say, one that
#: crashes the worker every time), so even a crash loop ends in the DLQ.
DELIVERY_LIMIT = 50
#: Quorum queues dead-letter at most once unless told otherwise: with these, a
#: message leaves a queue only once the target queue has confirmed it.
AT_LEAST_ONCE_DEAD_LETTERING = {
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
}


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


def retry_queue(queue: str, delay: float) -> str:
    """``<queue>.retry.5s``: named by its delay, so changing RETRY_DELAYS
    declares new queues instead of clashing with the old ones' arguments."""
    milliseconds = round(delay * 1000)
    label = f"{milliseconds // 1000}s" if milliseconds % 1000 == 0 else f"{milliseconds}ms"
    return f"{queue}.retry.{label}"


async def declare_retry_queues(
    channel: AbstractChannel, queue: str, delays: tuple[float, ...]
) -> None:
    """One queue per delay: messages wait out its TTL, then the broker dead-letters them
    back to ``queue``. No plugin; they survive restarts; the first in is the first out
    (one TTL per queue), so no message waits behind a longer one.
    """
    for delay in delays:
        await channel.declare_queue(
            retry_queue(queue, delay),
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-message-ttl": round(delay * 1000),
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": queue,
                **AT_LEAST_ONCE_DEAD_LETTERING,
            },
        )


async def declare_command_queue(
    channel: AbstractChannel, name: str, retry_delays: tuple[float, ...]
) -> AbstractQueue:
    """The queue ``name``, dead-lettering to its DLQ, and its retry queues."""
    dlq = dead_letter_queue(name)
    await channel.declare_queue(dlq, durable=True, arguments={"x-queue-type": "quorum"})
    queue = await channel.declare_queue(
        name,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": dlq,
            "x-delivery-limit": DELIVERY_LIMIT,
            **AT_LEAST_ONCE_DEAD_LETTERING,
        },
    )
    await declare_retry_queues(channel, name, retry_delays)
    return queue
