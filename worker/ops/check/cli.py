"""``worker check``: verify the invariants across the whole database, and say what is wrong."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import Progress, TaskID
from temporalio.service import RPCError

from worker.cli.common import load_settings, open_database, print_json, run_async
from worker.cli.errors import DATABASE_ERRORS, database_failure, message_of
from worker.config import Settings
from worker.contexts.transfers.checks import FINAL
from worker.ops.audit import require_database_file
from worker.ops.check import Report, Violation, reconcile
from worker.ops.check.sources import NoProgress, dead_sagas, read_snapshot
from worker.ops.check.sources import Progress as ProgressPort
from worker.persistence import database
from worker.sagas.client import connect


class BarProgress:
    """A rich progress bar on stderr: one bar per stage of the check."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def start(self, label: str, total: int) -> None:
        self._task = self._progress.add_task(label, total=total)

    def advance(self, count: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, count)


@contextmanager
def progress_bar() -> Iterator[ProgressPort]:
    """A bar when a person watches (stderr is a terminal); nothing in scripts and pipes."""
    if not sys.stderr.isatty():
        yield NoProgress()
        return
    with Progress(console=Console(stderr=True), transient=True) as progress:
        yield BarProgress(progress)


def _sagas_unreachable(settings: Settings, error: BaseException) -> Violation:
    where = settings.temporal_address
    detail = f"cannot reach Temporal at {where}: {message_of(error)}"
    return Violation("temporal_unreachable", where, detail)


async def _check(settings: Settings, skip_sagas: bool, progress: ProgressPort) -> Report:
    await open_database(settings)
    try:
        snapshot = await read_snapshot(progress)
        dead: dict[str, str] | None = None
        unreachable: list[Violation] = []
        unfinished = any(t.state not in FINAL for t in snapshot.transfers)
        if not skip_sagas and not unfinished:
            dead = {}  # every transfer has ended: there is nothing to ask Temporal
        elif not skip_sagas:
            try:
                client = await connect(settings)
                dead = await dead_sagas(client, snapshot.transfers, progress)
            except (RuntimeError, RPCError) as error:
                unreachable.append(_sagas_unreachable(settings, error))
        report = reconcile(snapshot.accounts, snapshot.events, snapshot.transfers, dead)
        report.violations = snapshot.unreadable + report.violations + unreachable
        return report
    finally:
        await database.close()


def check(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    skip_sagas: bool = typer.Option(
        False, "--skip-sagas", help="Do not ask Temporal whether unfinished transfers have a saga."
    ),
) -> None:
    """Verify the invariants across the whole database; exit 1 if any is violated.

    No balance is negative. Every account's balance equals its deposits minus
    its withdrawals in its event record (the outbox). Every transfer has ended
    or has a live saga in Temporal (or waits for the relay to start it). Each
    transfer's steps moved its amount (completed) or, in the end, nothing
    (rejected, compensated). By currency, the balances add up to the outside
    deposits minus withdrawals, less what transfers have in flight.

    Sent events are deleted after OUTBOX_RETENTION_HOURS: an account whose
    oldest events are gone cannot be recomputed. It is counted "not verifiable
    (history swept)", not as a violation; so are the transfers touching it and
    its currency's total. Each violation is one line (kind: subject: detail),
    then a summary line.
    """
    settings = load_settings()
    require_database_file(settings)
    try:
        with progress_bar() as progress:
            report = run_async(_check(settings, skip_sagas, progress))
    except DATABASE_ERRORS as error:
        raise database_failure(error, settings.database_url) from error
    if as_json:
        print_json(report.to_json())
    else:
        for violation in report.violations:
            typer.echo(violation.line())
        typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)
