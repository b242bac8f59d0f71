"""Relays the commands policies issued: sealed, to the ``commands`` exchange, at least once.

The seal (the retry seal's key, over the target queue, the message id and the body) is
what lets the receiving context take a policy's message id from this worker and from
no client. A crash between publish and marking publishes again: the receiver's inbox
answers the second copy as a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractChannel
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from worker.bus.registry import CommandRegistry
from worker.messaging.commands_exchange import COMMANDS_EXCHANGE
from worker.messaging.retry_seal import RetrySeal
from worker.persistence.read_side import CommandOutboxRow

log = logging.getLogger("worker.outbox")

PUBLISH_TIMEOUT = 10.0


class CommandRelay:
    def __init__(self, commands: CommandRegistry, *, batch_size: int, poll_interval: float) -> None:
        self._commands = commands
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, channel: AbstractChannel, seal: RetrySeal, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                # A task (a context) per round, as the outbox relay does: a failed
                # transaction's leftover must not poison the rounds after it.
                round_ = asyncio.create_task(self.publish_pending(channel, seal))
                full = await round_ == self._batch_size
            except Exception as error:  # the database or broker is away: try again later
                log.warning("command relay failed, retrying: %s", error)
                full = False
            if not full:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)
                self._wake.clear()

    async def publish_pending(self, channel: AbstractChannel, seal: RetrySeal) -> int:
        """Publish one batch of unsent commands; return how many went out.

        On PostgreSQL the rows are locked (others skip them) until marked; on SQLite, which
        one process owns, no transaction holds its only connection during the publish.
        """
        known = list(self._commands.public)  # a row naming no known command waits, logged
        query = CommandOutboxRow.filter(sent_at=None, command__in=known).order_by("id")
        query = query.limit(self._batch_size)
        if connections.get("default").capabilities.dialect != "postgres":
            rows = await query
            return await self._publish_all(channel, seal, rows, None)
        async with in_transaction() as db:
            rows = await query.select_for_update(skip_locked=True).using_db(db)
            return await self._publish_all(channel, seal, rows, db)

    async def _publish_all(
        self,
        channel: AbstractChannel,
        seal: RetrySeal,
        rows: list[CommandOutboxRow],
        db: BaseDBAsyncClient | None,
    ) -> int:
        sent = [row.id for row in rows if await self._publish(channel, seal, row)]
        if sent:
            update = CommandOutboxRow.filter(id__in=sent)
            await (update if db is None else update.using_db(db)).update(sent_at=datetime.now(UTC))
        return len(sent)

    async def _publish(
        self, channel: AbstractChannel, seal: RetrySeal, row: CommandOutboxRow
    ) -> bool:
        body = row.body.encode()
        queue = self._commands.queue_of(row.command)
        message = Message(
            body,
            content_type="application/json",
            message_id=row.message_id,
            type=row.command,
            correlation_id=row.correlation_id,
            delivery_mode=DeliveryMode.PERSISTENT,
            headers={
                **seal.headers(queue, row.message_id, 0, 0, body),
                "causation-id": row.causation_id,
            },
        )
        exchange = await channel.get_exchange(COMMANDS_EXCHANGE, ensure=False)
        try:
            await asyncio.wait_for(
                exchange.publish(message, routing_key=row.command, mandatory=True),
                PUBLISH_TIMEOUT,
            )
        except Exception as error:
            log.warning("policy command %s not published, will retry: %s", row.message_id, error)
            return False
        return True
