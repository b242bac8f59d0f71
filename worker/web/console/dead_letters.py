"""The DLQs as the console works them, with the same pieces as ``dlq``: a look takes
nothing away, a letter leaves its DLQ only once its audit record is written, a retry
ramps up (1, 2, 4...) and stops on renewed failures.

RabbitMQ cannot peek: a look reads letters off the DLQ and holds them (nobody else sees
them) until it ends. So a page reads no more than it shows, and lets go before it renders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiormq.exceptions import ChannelInvalidStateError

from worker.cli.errors import AMQP_ERRORS
from worker.context import Contexts
from worker.messaging.topology import consumed_queues, dead_letter_queue
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
Wanted = Callable[[DeadLetter], bool]
#: What reading a DLQ can raise once connected, when the broker (not the code) is at fault.
BROKER_ERRORS: tuple[type[BaseException], ...] = (*AMQP_ERRORS, ChannelInvalidStateError)


def queues(catalog: Contexts) -> list[str]:
    """Every queue the worker consumes, each with its DLQ."""
    return consumed_queues(catalog.commands, [s.name for s in catalog.subscriptions])


def dlq_of(catalog: Contexts, queue: str) -> str:
    if queue not in queues(catalog):
        raise Refused(404, f"no queue {queue!r} is consumed here")
    return dead_letter_queue(queue)


def _every(letter: DeadLetter) -> bool:
    return True


async def read_letters(
    console: Console,
    dlqs: Sequence[str],
    wanted: Wanted = _every,
    limit: int | None = None,
    per_dlq: int | None = None,
) -> tuple[dict[str, int], list[DeadLetter]]:
    """How many letters each existing DLQ holds, and the ``wanted`` ones among the first
    ``per_dlq`` of each (all, if None), stopping at ``limit``; all back in their DLQ after."""
    async with connected(console.settings) as connection:
        counts = await ready_counts(connection, dlqs)
        reading = counts if per_dlq is None else {q: min(n, per_dlq) for q, n in counts.items()}
        async with DeadLetterStore(connection, console.catalog.commands) as store:
            return counts, await store.browse(reading, wanted, limit)


def _named(letter_id: str) -> Wanted:
    return lambda letter: letter.id == letter_id


async def find(console: Console, queue: str, letter_id: str) -> DeadLetter:
    """The first copy of one letter of the queue's DLQ (the look stops there)."""
    dlq = dlq_of(console.catalog, queue)
    _, found = await read_letters(console, [dlq], _named(letter_id), limit=1)
    if not found:
        raise Refused(404, f"no dead letter {letter_id!r} in {dlq} (sent back or purged?)")
    return found[0]


async def every_copy(console: Console, queue: str, letter_id: str) -> list[DeadLetter]:
    """Every copy of one letter (the worker may have dead-lettered a message twice): they
    can be anywhere in the DLQ, so this one reads it to the end."""
    dlq = dlq_of(console.catalog, queue)
    _, found = await read_letters(console, [dlq], _named(letter_id))
    if not found:
        raise Refused(404, f"no dead letter {letter_id!r} in {dlq} (sent back or purged?)")
    return found


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
    """Send ``letters`` (as a look found them, every copy each) back, ramping up;
    ``edited``: the one letter's new body."""
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
    console: Console, dlq: str, letter_id: str, operator: str, reason: str
) -> list[str]:
    """Remove every copy of one letter for good, each recorded whole first: the ids purged
    (none: it was not in the DLQ)."""
    async with connected(console.settings) as connection:
        counts = await ready_counts(connection, [dlq])
        async with DeadLetterStore(connection, console.catalog.commands) as store:
            copies = await store.browse(counts, _named(letter_id))
            return await purge_letters(console.settings, store, copies, operator, reason)
