"""What the ``dlq`` commands share: which DLQs, a browsing session, the audit records."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import typer
from aio_pika.abc import AbstractConnection

from worker.bus.registry import CommandRegistry
from worker.cli.common import CliError, fail, load_settings, shown
from worker.cli.errors import AMQP_ERRORS, DATABASE_ERRORS, amqp_failure, database_failure
from worker.config import Settings
from worker.messaging.connection import connect
from worker.messaging.topology import consumed_queues, dead_letter_queue
from worker.ops.audit_log import record_action
from worker.ops.dlq.letters import DeadLetter
from worker.ops.dlq.store import DeadLetterStore, ready_counts
from worker.persistence.models import InboxRow

QUEUE = typer.Option(
    None, "--queue", help="Only this queue's DLQ, e.g. commands.unrouted (default: all)."
)
JSON = typer.Option(False, "--json", help="Print JSON.")
OPERATOR = typer.Option(None, "--operator", help="Who (default: your user name).")
#: How the ``dlq`` commands' connections show in RabbitMQ's management UI.
CONNECTION_NAME = "python -m worker dlq"


@cache
def commands() -> CommandRegistry:
    """The commands of every bounded context the composition root lists."""
    from worker.bootstrap import contexts

    return contexts(load_settings()).commands


@cache
def event_handlers() -> list[str]:
    """The event handlers of every bounded context: each has a queue and a DLQ."""
    from worker.bootstrap import contexts

    return [s.name for s in contexts(load_settings()).subscriptions]


def dead_letter_queues(queue: str | None) -> list[str]:
    """The DLQs to work on: every consumed queue's (``commands.unrouted`` and the event
    handlers' too), or the one ``--queue`` names."""
    known = consumed_queues(commands(), event_handlers())
    if queue is None:
        return [dead_letter_queue(name) for name in known]
    name = queue.removesuffix(".dlq")
    if name not in known:
        fail(f"unknown queue {queue!r}; choose from {', '.join(known)}", 2)
    return [dead_letter_queue(name)]


class ServerUnavailable(CliError):
    """The broker or the database failed, or cannot be reached: no mistake of the
    operator's, and trying again once it is back may work (the console's 503)."""


@dataclass
class Session:
    connection: AbstractConnection
    store: DeadLetterStore
    dlqs: list[str]
    letters: list[DeadLetter] = field(default_factory=list)

    def one(self, dlq_id: str) -> DeadLetter:
        found = [letter for letter in self.letters if letter.id == dlq_id]
        if not found:
            fail(f"no dead letter {shown(dlq_id)} in {', '.join(self.dlqs) or 'any DLQ'}")
        return found[0]


@asynccontextmanager
async def connected(settings: Settings) -> AsyncIterator[AbstractConnection]:
    """A connection to RabbitMQ, named for the management UI; closed quietly (a
    broken one must not hide the error that broke it). Letters whose properties
    the client library cannot decode are read too (see ``wire``)."""
    try:
        connection = await connect(
            settings.amqp_url, timeout=10, client_properties={"connection_name": CONNECTION_NAME}
        )
    except AMQP_ERRORS as error:
        raise ServerUnavailable(str(amqp_failure(error, settings.amqp_url))) from error
    try:
        yield connection
    finally:
        with contextlib.suppress(Exception):
            await connection.close()


async def present(connection: AbstractConnection, dlqs: Sequence[str]) -> dict[str, int]:
    """How many messages are ready in each of ``dlqs``; one error line if none exists."""
    counts = await ready_counts(connection, dlqs)
    if not counts:
        fail(f"no {' or '.join(dlqs)} queue yet: has the worker started once?")
    return counts


@asynccontextmanager
async def browsing(settings: Settings, dlqs: Sequence[str]) -> AsyncIterator[Session]:
    """Every message of ``dlqs``, held until the session ends (then the rest go back)."""
    async with connected(settings) as connection:
        counts = await present(connection, dlqs)
        async with DeadLetterStore(connection, commands()) as store:
            yield Session(connection, store, list(counts), await store.browse(counts))


async def look(connection: AbstractConnection, dlqs: Sequence[str]) -> Session:
    """Every message of ``dlqs`` as it is now; all of them are back in their DLQ after."""
    counts = await present(connection, dlqs)
    async with DeadLetterStore(connection, commands()) as store:
        return Session(connection, store, list(counts), await store.browse(counts))


async def processed_status(settings: Settings, message_id: str) -> str | None:
    """How the worker answered ``message_id`` if its inbox has it (``None``: not yet)."""
    try:
        row = await InboxRow.get_or_none(message_id=message_id)
    except DATABASE_ERRORS as error:
        raise ServerUnavailable(str(database_failure(error, settings.database_url))) from error
    return None if row is None else row.status


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
        raise ServerUnavailable(
            f"the audit record of {action} {letter.id} could not be written: {failure}"
        ) from error
