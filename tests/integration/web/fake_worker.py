"""A stand-in for the worker: the real topology, and commands taken off their queue by hand,
answered on their ``reply_to`` or recorded in the inbox as the test says."""

from __future__ import annotations

import asyncio
import json
import time
from types import TracebackType

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from worker.bus.outcomes import ErrorInfo, Outcome, Status
from worker.bus.registry import CommandRegistry
from worker.messaging.connection import connect
from worker.messaging.topology import declare_all
from worker.persistence.models import InboxRow


class FakeWorker:
    def __init__(self, amqp_url: str, commands: CommandRegistry) -> None:
        self._url = amqp_url
        self._commands = commands
        self._queues: dict[str, AbstractQueue] = {}

    async def __aenter__(self) -> FakeWorker:
        self.connection = await connect(self._url, timeout=10)
        self.channel = await self.connection.channel()
        self._queues = await declare_all(self.channel, self._commands)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.connection.close()

    async def purge(self) -> None:
        for queue in self._queues.values():
            await queue.purge()

    async def take(self, command: str, timeout: float = 5) -> AbstractIncomingMessage:
        """The next message on ``command``'s queue (acked)."""
        queue = self._queues[self._commands.queue_of(command)]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = await queue.get(fail=False, no_ack=True)
            if message is not None:
                return message
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {command} within {timeout}s")

    async def waiting(self, command: str) -> int:
        """How many messages wait on ``command``'s queue."""
        queue = self._queues[self._commands.queue_of(command)]
        declared = await self.channel.declare_queue(queue.name, passive=True)
        return int(declared.declaration_result.message_count or 0)

    async def reply(self, message: AbstractIncomingMessage, outcome: Outcome) -> None:
        """Answer as the worker does: the outcome's JSON to ``reply_to``."""
        assert message.reply_to, "the front door always asks for a reply"
        await self.channel.default_exchange.publish(
            aio_pika.Message(
                json.dumps(outcome.to_json()).encode(),
                content_type="application/json",
                correlation_id=message.correlation_id,
            ),
            routing_key=message.reply_to,
        )

    @staticmethod
    async def record(message_id: str, command: str, outcome: Outcome) -> None:
        """Commit the outcome to the inbox, as the worker does (without replying)."""
        error = outcome.error or ErrorInfo(None, None)  # type: ignore[arg-type]
        await InboxRow.create(
            message_id=message_id,
            command=command,
            status=outcome.status.value,
            error_code=error.code,
            error_message=error.message,
            correlation_id=message_id,
        )


def accepted(message_id: str) -> Outcome:
    return Outcome(Status.ACCEPTED, message_id)
