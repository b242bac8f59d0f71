"""``worker dlq``: see what failed, then send it back (as is or edited) or purge it.

Looking is safe: RabbitMQ cannot peek, so each DLQ is read with ``basic.get``
without acking and every message goes back when the command ends (see
``store.py``). Acting (resend, edit, purge) is written to the audit log, and is
refused before anything is touched when the database cannot take the record; a
letter leaves its DLQ only once its record is written.
"""

from __future__ import annotations

import typer

from worker.cli.common import load_settings, print_json, run_async
from worker.ops.dlq.edit_cli import edit
from worker.ops.dlq.groups import Group, group
from worker.ops.dlq.letters import DeadLetter
from worker.ops.dlq.purge import purge
from worker.ops.dlq.resend_cli import resend
from worker.ops.dlq.session import JSON, QUEUE, browsing, dead_letter_queues
from worker.ops.dlq.views import letter_json, listing_json, print_letter, print_listing

dlq_app = typer.Typer(
    help="The dead-letter queues: list, show, resend, edit, purge.", no_args_is_help=True
)


@dlq_app.command("list")
def list_command(queue: str = QUEUE, as_json: bool = JSON) -> None:
    """Dead letters grouped by failure class and error code, with counts and ages.

    Nothing is taken away: the messages are read without acking and all go back.
    """
    settings, dlqs = load_settings(), dead_letter_queues(queue)

    async def look() -> tuple[list[str], list[Group]]:
        async with browsing(settings, dlqs) as session:
            return session.dlqs, group(session.letters)

    present, groups = run_async(look())
    if as_json:
        print_json(listing_json(present, groups))
    else:
        print_listing(present, groups)


@dlq_app.command("show")
def show(
    dlq_id: str = typer.Argument(..., metavar="ID", help="As `dlq list` shows it."),
    queue: str = QUEUE,
    as_json: bool = JSON,
) -> None:
    """One dead letter: why it failed, its properties, every header and the body."""
    settings, dlqs = load_settings(), dead_letter_queues(queue)

    async def look() -> DeadLetter:
        async with browsing(settings, dlqs) as session:
            return session.one(dlq_id)

    letter = run_async(look())
    if as_json:
        print_json(letter_json(letter))
    else:
        print_letter(letter)


dlq_app.command("resend")(resend)
# The name before 0.2: "retry" now means only the worker's own retry ladder.
dlq_app.command("retry", hidden=True, help="The old name of `dlq resend`.")(resend)
dlq_app.command("edit")(edit)
dlq_app.command("purge")(purge)
