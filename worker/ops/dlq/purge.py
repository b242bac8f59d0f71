"""``dlq purge``: remove dead letters for good, each copied whole into the audit log first."""

from __future__ import annotations

from collections.abc import Sequence

import typer

from worker.cli.common import fail, load_settings, print_json, run_async
from worker.config import Settings
from worker.ops.audit import audit_trail
from worker.ops.audit_log import default_operator
from worker.ops.dlq.groups import select
from worker.ops.dlq.letters import DeadLetter
from worker.ops.dlq.resend_cli import GROUP, IDS, one_way
from worker.ops.dlq.session import JSON, OPERATOR, QUEUE, audit, browsing, dead_letter_queues
from worker.ops.dlq.store import DeadLetterStore
from worker.ops.dlq.views import audit_before


async def purge_letters(
    settings: Settings,
    store: DeadLetterStore,
    letters: Sequence[DeadLetter],
    operator: str,
    reason: str,
) -> list[str]:
    """Remove ``letters`` (held by ``store``) for good, each recorded whole first: one that
    cannot be recorded stays, and stops the purge (``CliError``). The ids purged."""
    for letter in letters:
        before, after = audit_before(letter, full=True), {"status": "purged", "error": None}
        await audit(settings, operator, "dlq.purge", letter, reason, before, after)
        await store.remove(letter)
    return [letter.id for letter in letters]


def purge(
    ids: list[str] = IDS,
    group_code: str = GROUP,
    queue: str = QUEUE,
    reason: str = typer.Option(..., "--reason", help="Why (required): kept in the audit log."),
    operator: str = OPERATOR,
    as_json: bool = JSON,
) -> None:
    """Remove dead letters for good; each is first copied whole into the audit log."""
    one_way(ids or [], group_code, False, "IDs or --group CODE")
    if not reason.strip():
        fail("--reason must say why", 2)
    settings, dlqs = load_settings(), dead_letter_queues(queue)
    who = operator or default_operator()

    async def work() -> tuple[list[str], list[str]]:
        async with audit_trail(settings), browsing(settings, dlqs) as session:
            chosen = select(session.letters, ids or [], group_code)
            if not chosen.letters:
                unknown = f" (not found: {', '.join(chosen.missing)})" if chosen.missing else ""
                fail(f"no dead letter matches in {', '.join(session.dlqs)}{unknown}")
            purged = await purge_letters(settings, session.store, chosen.letters, who, reason)
            return purged, chosen.missing

    purged, missing = run_async(work())
    if as_json:
        print_json({"purged": purged, "not_found": missing})
    else:
        typer.echo(f"purged {len(purged)}: {' '.join(purged)}")
    if missing:
        fail(f"not found: {', '.join(missing)}")
