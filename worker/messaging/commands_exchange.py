"""The ``commands`` exchange, whose alternate exchange keeps what no queue is bound for;
and how the previous release's exchange (declared without one) is replaced in place.

RabbitMQ refuses to redeclare an exchange with other arguments, and no argument can be
added to one: the old exchange is deleted and declared again. Its queues and their
messages stay; its bindings go, and are made again here. Publishers get NOT_FOUND in
the few milliseconds between the delete and the declare.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue
from aiormq.exceptions import ChannelNotFoundEntity, ChannelPreconditionFailed

from worker.messaging.topology_mismatch import TopologyMismatch

log = logging.getLogger("worker.topology")

COMMANDS_EXCHANGE = "commands"
#: The alternate exchange of ``commands``, with the same bindings: while a replaced
#: ``commands`` is not bound yet (or a racing worker's replacement unbound it), a known
#: command still reaches its queue, and only a really unknown one goes further.
COMMAND_ROUTES = "commands.routes"
#: Workers that start together on the previous release's exchange race to replace it.
ATTEMPTS = 10
RACE_PAUSE = 0.02

Bindings = Sequence[tuple[AbstractQueue, str]]


async def declare_commands_exchange(
    channel: AbstractChannel, bindings: Bindings, attempts: int = ATTEMPTS
) -> AbstractExchange:
    """Declare ``commands`` (alternate exchange ``commands.routes``) and make ``bindings``.

    Only an exchange without an alternate exchange (the previous release's) is replaced;
    any other difference raises :class:`ChannelPreconditionFailed` for the caller to
    explain. A race lost to another worker is tried again after a random pause.
    """
    for attempt in range(attempts):
        try:
            exchange = await _declare(channel)
            for queue, key in bindings:
                await queue.bind(exchange, routing_key=key)
            return exchange
        except ChannelPreconditionFailed as error:
            if not _lacks_alternate_exchange(error):
                raise
            await channel.reopen()  # a refused declaration closes the channel
            if await _replace(channel, error):
                continue  # bound on the next pass
        except ChannelNotFoundEntity as race:
            log.info("another worker replaced %r under our bindings: %s", COMMANDS_EXCHANGE, race)
            await channel.reopen()
        await asyncio.sleep(random.uniform(0, RACE_PAUSE * 2**attempt))
    raise TopologyMismatch(
        f"could not declare the exchange {COMMANDS_EXCHANGE!r} in {attempts} attempts: is a "
        "worker of the previous release declaring it again? See 'Upgrading' in the README"
    )


async def _declare(channel: AbstractChannel) -> AbstractExchange:
    return await channel.declare_exchange(
        COMMANDS_EXCHANGE,
        ExchangeType.DIRECT,
        durable=True,
        arguments={"alternate-exchange": COMMAND_ROUTES},
    )


def _lacks_alternate_exchange(error: ChannelPreconditionFailed) -> bool:
    """Whether the refusal says the exchange has no alternate exchange at all."""
    text = str(error.args[-1] if error.args else "")
    return "inequivalent arg 'alternate-exchange'" in text and text.endswith("but current is none")


async def _replace(channel: AbstractChannel, refusal: ChannelPreconditionFailed) -> bool:
    """Delete the previous release's exchange and declare it anew; ``False``: a race lost."""
    log.warning(
        "replacing the exchange %r of an earlier release by one whose alternate exchange keeps "
        "unknown commands (%s); bindings to it that this worker does not make are dropped",
        COMMANDS_EXCHANGE,
        refusal.args[-1] if refusal.args else refusal,
    )
    try:
        await channel.exchange_delete(COMMANDS_EXCHANGE)
        await _declare(channel)
    except (ChannelPreconditionFailed, ChannelNotFoundEntity) as race:
        log.info("another worker declares %r too: %s", COMMANDS_EXCHANGE, race)
        await channel.reopen()
        return False
    return True
