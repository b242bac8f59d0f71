"""What the ``dlq`` commands share: which DLQs, a browsing session, the audit records."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import typer
from aio_pika.abc import AbstractConnection

from worker.adapters.audit import record_action
from worker.adapters.rabbitmq.dead_letters import DeadLetter
from worker.adapters.rabbitmq.dlq_store import DeadLetterStore, ready_counts
from worker.adapters.rabbitmq.topology import command_queues, dead_letter_queue
from worker.config import Settings
from worker.entrypoints.common import fail
from worker.entrypoints.errors import AMQP_ERRORS, DATABASE_ERRORS, amqp_failure, database_failure

QUEUE = typer.Option(None, "--queue", help="Only this command queue's DLQ (default: all).")
JSON = typer.Option(False, "--json", help="Print JSON.")
OPERATOR = typer.Option(None, "--operator", help="Who (default: your user name).")


def dead_letter_queues(queue: str | None) -> list[str]:
    """The DLQs to work on: every command queue's, or the one ``--queue`` names."""
    known = command_queues()
    if queue is None:
        return [dead_letter_queue(name) for name in known]
    name = queue.removesuffix(".dlq")
    if name not in known:
        fail(f"unknown queue {queue!r}; choose from {', '.join(known)}", 2)
    return [dead_letter_queue(name)]


@dataclass
class Session:
    connection: AbstractConnection
    store: DeadLetterStore
    dlqs: list[str]
    letters: list[DeadLetter] = field(default_factory=list)

    def one(self, dlq_id: str) -> DeadLetter:
        found = [letter for letter in self.letters if letter.id == dlq_id]
        if not found:
            fail(f"no dead letter {dlq_id!r} in {', '.join(self.dlqs) or 'any DLQ'}")
        return found[0]


@asynccontextmanager
async def browsing(settings: Settings, dlqs: Sequence[str]) -> AsyncIterator[Session]:
    """Every message of ``dlqs``, held until the session ends (then the rest go back)."""
    try:
        connection = await aio_pika.connect(settings.amqp_url, timeout=10)
    except AMQP_ERRORS as error:
        raise amqp_failure(error, settings.amqp_url) from error
    async with connection:
        counts = await ready_counts(connection, dlqs)
        if not counts:
            fail(f"no {' or '.join(dlqs)} queue yet: has the worker started once?")
        async with DeadLetterStore(connection) as store:
            yield Session(connection, store, list(counts), await store.browse(counts))


async def audit(
    settings: Settings,
    operator: str,
    action: str,
    letter: DeadLetter,
    reason: str,
    before: Any,
    after: Any,
) -> None:
    """One audit record for ``letter``; one error line if the database does not take it."""
    try:
        await record_action(operator, action, letter.id, reason, before, after)
    except DATABASE_ERRORS as error:
        failure = database_failure(error, settings.database_url)
        fail(f"the audit record of {action} {letter.id} could not be written: {failure}")
