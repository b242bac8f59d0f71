"""The DLQs as the console works them, with the same pieces as ``dlq``: a look takes
nothing away, a letter leaves its DLQ only once its audit record is written, a retry
ramps up (1, 2, 4...) and stops on renewed failures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from worker.context import Contexts
from worker.messaging.topology import consumed_queues, dead_letter_queue
from worker.ops.dlq.groups import select
from worker.ops.dlq.letters import DeadLetter
from worker.ops.dlq.purge import purge_letters
from worker.ops.dlq.report import cause, report_json
from worker.ops.dlq.resend_report import ResendInterrupted
from worker.ops.dlq.resending import CHUNK_LETTERS, ResendAudit, send_in_chunks
from worker.ops.dlq.session import connected
from worker.ops.dlq.store import DeadLetterStore, ready_counts
from worker.web.console.gate import Refused
from worker.web.console.state import Console

#: As ``dlq resend``'s defaults: at most 20 a second, 15 s for each batch's outcomes.
RATE = 20.0
WATCH_SECONDS = 15.0


def queues(catalog: Contexts) -> list[str]:
    """Every queue the worker consumes, each with its DLQ."""
    return consumed_queues(catalog.commands, [s.name for s in catalog.subscriptions])


def dlq_of(catalog: Contexts, queue: str) -> str:
    if queue not in queues(catalog):
        raise Refused(404, f"no queue {queue!r} is consumed here")
    return dead_letter_queue(queue)


async def look(console: Console, dlqs: Sequence[str]) -> tuple[list[str], list[DeadLetter]]:
    """The DLQs that exist, and every letter in them; all back in their DLQ after."""
    async with connected(console.settings) as connection:
        counts = await ready_counts(connection, dlqs)
        async with DeadLetterStore(connection, console.catalog.commands) as store:
            return list(counts), await store.browse(counts)


async def find(console: Console, queue: str, letter_id: str) -> tuple[DeadLetter, int]:
    """One letter of the queue's DLQ, and how many copies of it are there."""
    dlq = dlq_of(console.catalog, queue)
    _, letters = await look(console, [dlq])
    copies = select(letters, [letter_id]).letters
    if not copies:
        raise Refused(404, f"no dead letter {letter_id!r} in {dlq} (sent back or purged?)")
    return copies[0], len(copies)


@dataclass(frozen=True)
class Resent:
    """What a retry did, as ``dlq resend --json`` says it; ``broken``: what cut it short."""

    report: dict[str, Any]
    broken: str | None = None

    @property
    def answers(self) -> list[Any]:
        return [entry["outcome"] for entry in self.report["outcomes"]]


async def resend(
    console: Console,
    dlq: str,
    letters: Sequence[DeadLetter],
    operator: str,
    reason: str,
    edited: bytes | None = None,
) -> Resent:
    """Send ``letters`` (as a look found them) back, ramping up; ``edited``: the one
    letter's new body."""
    audit = ResendAudit(
        console.settings, operator, reason, None if edited is None else edited.decode()
    )
    bodies = {} if edited is None else {letter.id: edited for letter in letters}
    async with connected(console.settings) as connection:
        try:
            report = await send_in_chunks(
                connection,
                [dlq],
                letters,
                audit,
                rate=RATE,
                watch_timeout=WATCH_SECONDS,
                bodies=bodies,
                chunk=1 if edited is not None else CHUNK_LETTERS,
                registry=console.catalog.commands,
            )
        except ResendInterrupted as cut:
            return Resent(report_json(cut.report), cause(cut.error))
    return Resent(report_json(report))


async def purge(
    console: Console, dlq: str, ids: Sequence[str], operator: str, reason: str
) -> tuple[list[str], list[str]]:
    """Remove the letters with ``ids`` for good, each recorded whole first: (purged, missing)."""
    async with connected(console.settings) as connection:
        counts = await ready_counts(connection, [dlq])
        async with DeadLetterStore(connection, console.catalog.commands) as store:
            chosen = select(await store.browse(counts), ids)
            purged = await purge_letters(console.settings, store, chosen.letters, operator, reason)
            return purged, chosen.missing
