"""The exchanges and queues of the wire contract, declared idempotently at start-up."""

from __future__ import annotations

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractQueue
from aiormq.exceptions import ChannelPreconditionFailed

from worker.bus.registry import CommandRegistry

COMMANDS_EXCHANGE = "commands"
EVENTS_EXCHANGE = "domain-events"
#: Events nobody subscribed to land here (through the alternate exchange), so a
#: mandatory publish always routes and nothing vanishes; it keeps a day's worth.
UNROUTED_EVENTS = "domain-events.unrouted"
UNROUTED_TTL_MS = 24 * 3600 * 1000
UNROUTED_MAX_LENGTH = 100_000
#: The broker dead-letters a message redelivered this often (say, one that
#: crashes the worker every time), so even a crash loop ends in the DLQ.
DELIVERY_LIMIT = 50
#: Quorum queues dead-letter at most once unless told otherwise: with these, a
#: message leaves a queue only once the target queue has confirmed it.
AT_LEAST_ONCE_DEAD_LETTERING = {
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
}


class TopologyMismatch(Exception):
    """A queue exists with other arguments than this version declares (an older release's)."""


UPGRADE_HINT = (
    "it was declared by an older version; drain and delete it (rabbitmqctl delete_queue), "
    "or see 'Upgrading' in the README"
)


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


def retry_queue(queue: str, delay: float) -> str:
    """``accounts.commands.retry.5s``: named by its delay, so changing RETRY_DELAYS
    declares new queues instead of clashing with the old ones' arguments."""
    milliseconds = round(delay * 1000)
    label = f"{milliseconds // 1000}s" if milliseconds % 1000 == 0 else f"{milliseconds}ms"
    return f"{queue}.retry.{label}"


class OwnQueues:
    """Whether the worker declares a queue (a command queue, its DLQ, any of its retry
    queues, with today's ``RETRY_DELAYS`` or an earlier one's): never a reply's address."""

    def __init__(self, queues: list[str]) -> None:
        names = {*queues, *(dead_letter_queue(queue) for queue in queues), UNROUTED_EVENTS}
        self._names = frozenset(names)
        self._retry_prefixes = tuple(f"{queue}.retry." for queue in queues)

    def __call__(self, name: str) -> bool:
        return name in self._names or name.startswith(self._retry_prefixes)


async def declare_events(channel: AbstractChannel) -> None:
    unrouted = await channel.declare_exchange(UNROUTED_EVENTS, ExchangeType.FANOUT, durable=True)
    queue = await channel.declare_queue(
        UNROUTED_EVENTS,
        durable=True,
        arguments={"x-message-ttl": UNROUTED_TTL_MS, "x-max-length": UNROUTED_MAX_LENGTH},
    )
    await queue.bind(unrouted)
    await channel.declare_exchange(
        EVENTS_EXCHANGE,
        ExchangeType.TOPIC,
        durable=True,
        arguments={"alternate-exchange": UNROUTED_EVENTS},
    )


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


async def declare_commands(
    channel: AbstractChannel, commands: CommandRegistry, retry_delays: tuple[float, ...] = ()
) -> dict[str, AbstractQueue]:
    """Declare every command queue with its DLQ, retry queues and bindings; return the queues."""
    exchange = await channel.declare_exchange(COMMANDS_EXCHANGE, ExchangeType.DIRECT, durable=True)
    queues: dict[str, AbstractQueue] = {}
    for name in commands.queues:
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
        for command in commands.for_queue(name):
            await queue.bind(exchange, routing_key=command)
        queues[name] = queue
    return queues


async def declare_all(
    channel: AbstractChannel, commands: CommandRegistry, retry_delays: tuple[float, ...] = ()
) -> dict[str, AbstractQueue]:
    """Declare everything; a queue left with other arguments raises :class:`TopologyMismatch`."""
    try:
        await declare_events(channel)
        return await declare_commands(channel, commands, retry_delays)
    except ChannelPreconditionFailed as error:
        raise TopologyMismatch(
            f"{error.args[-1] if error.args else error}; {UPGRADE_HINT}"
        ) from None
