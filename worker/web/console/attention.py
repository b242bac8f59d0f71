"""What the home page gathers: dead letters by group, sagas waiting for an operator or
broken, and event handlers that lag or fail. A server that cannot be reached is a notice
on the page, never a failed page."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise import connections

from worker.cli.common import CliError
from worker.cli.errors import amqp_failure, message_of
from worker.messaging.topology import dead_letter_queue
from worker.ops.dlq.groups import group
from worker.ops.dlq.letters import DeadLetter
from worker.ops.dlq.views import listing_json
from worker.readside.cli import standing_json
from worker.readside.progress import standing
from worker.sagas.control import SagaSummary, list_sagas
from worker.web.console.dead_letters import BROKER_ERRORS, queues, read_letters
from worker.web.console.state import TEMPORAL_SECONDS, Console

#: The states of a saga that wait for somebody.
STUCK = ("needs_operator", "failed")
#: A handler this far behind the log (or failing, or stopped) is shown.
LAGGING_SECONDS = 10.0
SHOWN_PER_GROUP = 5
#: The home page groups the first this many letters of each DLQ (its count is the queue's).
GROUPED_PER_DLQ = 200


@dataclass
class Attention:
    queues: list[dict[str, Any]] = field(default_factory=list)
    dlq_notice: str | None = None
    sagas: list[SagaSummary] = field(default_factory=list)
    saga_notice: str | None = None
    handlers: list[dict[str, Any]] = field(default_factory=list)
    handlers_total: int = 0
    handler_notice: str | None = None


def briefly(error: BaseException, width: int = 200) -> str:
    """The error on one line, cut to ``width`` (Temporal's connection errors run long)."""
    text = message_of(error)
    return text if len(text) <= width else text[: width - 1] + "…"


def needs_attention(handler: dict[str, Any]) -> bool:
    """Failing, stopped or rebuilding, or behind the log by ``LAGGING_SECONDS`` or more."""
    lagging = float(handler["lag_seconds"]) >= LAGGING_SECONDS
    return handler["state"] in ("failing", "stopped", "rebuilding") or lagging


def dlq_entries(counts: dict[str, int], letters: list[DeadLetter]) -> list[dict[str, Any]]:
    """Each DLQ that holds letters: its count (the queue's), its groups of the letters
    read, and how many ``more`` it holds than were read."""
    entries = []
    for entry in listing_json(list(counts), group(letters)):
        total, read = counts[entry["dlq"]], entry["count"]
        if total or read:
            entries.append({**entry, "count": max(total, read), "more": max(0, total - read)})
    return entries


async def _dead_letters(console: Console, found: Attention) -> None:
    dlqs = [dead_letter_queue(q) for q in queues(console.catalog)]
    try:
        counts, letters = await read_letters(console, dlqs, per_dlq=GROUPED_PER_DLQ)
    except CliError as error:
        found.dlq_notice = str(error)
        return
    except BROKER_ERRORS as error:  # the broker went away while the DLQs were read
        found.dlq_notice = str(amqp_failure(error, console.settings.amqp_url))
        return
    if not counts:
        found.dlq_notice = "no DLQ exists yet: has the worker started once?"
    found.queues = dlq_entries(counts, letters)


async def _sagas(console: Console, found: Attention) -> None:
    address = console.settings.temporal_address
    try:
        client = await console.temporal()
        listed = await asyncio.wait_for(
            asyncio.gather(*(list_sagas(client, console.catalog.sagas, s) for s in STUCK)),
            TEMPORAL_SECONDS,
        )
    except Exception as error:  # down, refusing, or slow: the page says so
        found.saga_notice = f"Temporal at {address} cannot be reached: {briefly(error)}"
        return
    found.sagas = sorted(
        (saga for sagas in listed for saga in sagas), key=lambda s: s.started_at, reverse=True
    )


async def _handlers(console: Console, found: Attention) -> None:
    db, now = connections.get("default"), datetime.now(UTC)
    subscriptions = console.catalog.subscriptions
    every = [standing_json(await standing(db, s), now) for s in subscriptions]
    found.handlers_total = len(every)
    found.handlers = [handler for handler in every if needs_attention(handler)]


async def gather(console: Console) -> Attention:
    found = Attention()
    await asyncio.gather(_dead_letters(console, found), _sagas(console, found))
    await _handlers(console, found)
    return found
