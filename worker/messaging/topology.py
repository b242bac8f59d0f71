"""The exchanges and queues of the wire contract, declared idempotently at start-up.

commands (direct; alternate exchange commands.routes)    <- clients publish here
  commands.routes (direct, the same bindings; alternate exchange commands.unrouted)
    commands.unrouted (fanout) -> queue commands.unrouted (consumed: dead-lettered)
domain-events (topic; alternate exchange domain-events.unrouted)  <- the outbox relay
  -> <handler>.events, one per event handler, bound for exactly its event types
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractQueue
from aiormq.exceptions import ChannelPreconditionFailed

from worker.bus.registry import CommandRegistry
from worker.messaging.command_queues import dead_letter_queue, declare_command_queue, retry_queue
from worker.messaging.commands_exchange import (
    COMMAND_ROUTES,
    COMMANDS_EXCHANGE,
    declare_commands_exchange,
)
from worker.messaging.topology_mismatch import TopologyMismatch, mismatch

__all__ = [
    "COMMANDS_EXCHANGE",
    "COMMAND_ROUTES",
    "TopologyMismatch",
    "dead_letter_queue",
    "retry_queue",
]

EVENTS_EXCHANGE = "domain-events"
#: Events nobody subscribed to land here (through the alternate exchange), so a
#: mandatory publish always routes and nothing vanishes; it keeps a day's worth.
UNROUTED_EVENTS = "domain-events.unrouted"
UNROUTED_TTL_MS = 24 * 3600 * 1000
UNROUTED_MAX_LENGTH = 100_000
#: Commands no queue is bound for (an unknown routing key) land in this exchange and
#: queue; the worker consumes the queue and dead-letters them with their reason.
UNROUTED_COMMANDS = "commands.unrouted"


def consumed_queues(commands: CommandRegistry, handlers: Sequence[str] = ()) -> list[str]:
    """Every queue the worker consumes: the command queues, ``commands.unrouted``, then
    each event handler's ``<handler>.events``."""
    return [*commands.queues, UNROUTED_COMMANDS, *(handler_queue(h) for h in handlers)]


def handler_queue(handler: str) -> str:
    """An event handler's own queue, bound to ``domain-events`` for exactly its event types."""
    return f"{handler}.events"


class _EveryKeyBut:
    def __init__(self, queue: str) -> None:
        self._queue = queue

    def __contains__(self, key: object) -> bool:
        return key != self._queue


def naming_keys_of_events(queue: str) -> Container[str]:
    """On a handler's queue the routing key is the event's type, except on a retry copy
    or a resent dead letter (the queue's name: the type is in ``type``)."""
    return _EveryKeyBut(queue)


def naming_keys(queue: str, commands: CommandRegistry) -> Container[str]:
    """The routing keys that name the command of a delivery from ``queue`` (any other
    key, the queue's own name, leaves it to the ``type`` property).

    On ``commands.unrouted`` every key does, known or not: the alternate exchanges keep
    the key it was published with. Only a retry copy or a resent dead letter comes back
    with the queue's name, and the command in ``type``.
    """
    return _EveryKeyBut(queue) if queue == UNROUTED_COMMANDS else commands.public


class OwnQueues:
    """Whether the worker declares a queue (a consumed queue, its DLQ, any of its retry
    queues, with today's ``RETRY_DELAYS`` or an earlier one's): never a reply's address."""

    def __init__(self, queues: list[str], handlers: Sequence[str] = ()) -> None:
        queues = [*queues, UNROUTED_COMMANDS, *(handler_queue(h) for h in handlers)]
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


async def declare_commands(
    channel: AbstractChannel, commands: CommandRegistry, retry_delays: tuple[float, ...] = ()
) -> dict[str, AbstractQueue]:
    """Declare the command exchanges and every consumed queue; return the queues.

    From the end of the chain to its start, so that no alternate exchange ever
    points at one that does not exist yet (the broker would drop the message).
    """
    unrouted_exchange = await channel.declare_exchange(
        UNROUTED_COMMANDS, ExchangeType.FANOUT, durable=True
    )
    unrouted = await declare_command_queue(channel, UNROUTED_COMMANDS, retry_delays)
    await unrouted.bind(unrouted_exchange)
    routes = await channel.declare_exchange(
        COMMAND_ROUTES,
        ExchangeType.DIRECT,
        durable=True,
        arguments={"alternate-exchange": UNROUTED_COMMANDS},
    )
    queues: dict[str, AbstractQueue] = {}
    bindings: list[tuple[AbstractQueue, str]] = []
    for name in commands.queues:
        queue = queues[name] = await declare_command_queue(channel, name, retry_delays)
        for command in commands.for_queue(name):
            await queue.bind(routes, routing_key=command)
            bindings.append((queue, command))
    await declare_commands_exchange(channel, bindings)
    return {**queues, UNROUTED_COMMANDS: unrouted}


async def declare_handlers(
    channel: AbstractChannel,
    handlers: Mapping[str, Sequence[str]],
    retry_delays: tuple[float, ...] = (),
) -> dict[str, AbstractQueue]:
    """Each handler's queue (with its DLQ and retry queues), bound to ``domain-events``
    for each of its event types; by handler name."""
    events = await channel.get_exchange(EVENTS_EXCHANGE, ensure=False)
    queues: dict[str, AbstractQueue] = {}
    for handler, event_types in handlers.items():
        queue = queues[handler] = await declare_command_queue(
            channel, handler_queue(handler), retry_delays
        )
        for event_type in event_types:
            await queue.bind(events, routing_key=event_type)
    return queues


async def declare_all(
    channel: AbstractChannel,
    commands: CommandRegistry,
    retry_delays: tuple[float, ...] = (),
    handlers: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, AbstractQueue]:
    """Declare everything, upgrading the previous release's ``commands`` exchange (which
    may reopen ``channel``: set its QoS after); return the queues to consume: the
    command queues, then each event handler's (``<handler>.events``).

    A queue or exchange left with other arguments raises :class:`TopologyMismatch`.
    """
    try:
        await declare_events(channel)
        queues = await declare_commands(channel, commands, retry_delays)
        handler_queues = await declare_handlers(channel, handlers or {}, retry_delays)
    except ChannelPreconditionFailed as error:
        raise mismatch(error) from None
    return {**queues, **{handler_queue(name): q for name, q in handler_queues.items()}}
