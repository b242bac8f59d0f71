"""Saga rule: every unfinished transfer has a live saga (or waits for the relay to start one).

Sagas are looked at after the snapshot, so a transfer whose saga looks closed is
read afresh first: it may have ended since.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from worker.contexts.transfers.checks_facts import FINAL, TransferFacts, workflow_id
from worker.ops.check.engine import NoProgress, Progress, SagaLiveness

PROBES_AT_ONCE = 16
#: Whether a transfer has ended by now (a fresh read, outside the snapshot).
EndedSince = Callable[[str], Awaitable[bool]]


def saga_problem(transfer: TransferFacts, execution: str | None) -> str | None:
    """Why an unfinished transfer has no live saga, given its workflow's status (None: none)."""
    if transfer.state in FINAL or execution == "running":
        return None
    if execution is None:
        if transfer.start_pending:
            return None  # the relay starts it when it publishes TransferRequested
        return (
            f"{transfer.state}, but it has no saga "
            f"(no workflow {workflow_id(transfer.transfer_id)})"
        )
    return (
        f"{transfer.state}, but its saga's workflow is {execution} "
        f"(`sagas retry {transfer.transfer_id} --reason ...` restarts it)"
    )


async def dead_sagas(
    sagas: SagaLiveness,
    transfers: list[TransferFacts],
    ended_since: EndedSince,
    progress: Progress | None = None,
) -> dict[str, str]:
    """Why each unfinished transfer has no live saga, by transfer id (live ones are absent).

    Raises ``SagasUnreachable`` when the saga machinery cannot be asked.
    """
    unfinished = [t for t in transfers if t.state not in FINAL]
    progress = progress or NoProgress()
    progress.start("looking at sagas", len(unfinished))
    limit = asyncio.Semaphore(PROBES_AT_ONCE)

    async def probe(transfer: TransferFacts) -> str | None:
        async with limit:
            execution = await sagas.execution(workflow_id(transfer.transfer_id))
            problem = saga_problem(transfer, execution)
            if problem is not None and await ended_since(transfer.transfer_id):
                problem = None  # it ended between the snapshot and this look
            progress.advance(1)
            return problem

    problems = await asyncio.gather(*(probe(t) for t in unfinished))
    return {t.transfer_id: p for t, p in zip(unfinished, problems, strict=True) if p is not None}
