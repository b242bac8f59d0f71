"""``worker check``: verify the invariants across the whole database, and say what is wrong."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import typer
from rich.console import Console
from rich.progress import Progress, TaskID

from worker.bootstrap import contexts
from worker.cli.common import fail, load_settings, open_database, print_json, run_async
from worker.cli.errors import DATABASE_ERRORS, database_failure, message_of
from worker.config import Settings
from worker.ops.audit import require_database_file
from worker.ops.check.engine import NoProgress, run_checks
from worker.ops.check.engine import Progress as ProgressPort
from worker.ops.check.facts import Violation
from worker.ops.check.report import CheckConflict, Report
from worker.ops.check.sources import TemporalSagas, snapshot
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
        sagas = None if skip_sagas else TemporalSagas(partial(connect, settings))
        report = await run_checks(contexts(settings).checks, snapshot, sagas, progress)
        if sagas is not None and sagas.failure is not None:
            report.violations.append(_sagas_unreachable(settings, sagas.failure))
        return report
    finally:
        await database.close()


def check(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    skip_sagas: bool = typer.Option(
        False,
        "--skip-sagas",
        help="Do not ask Temporal whether the sagas of unfinished work are alive.",
    ),
) -> None:
    """Run every bounded context's reconciliation checks; exit 1 if any finds a violation.

    The checks read one snapshot of the whole database, then (unless --skip-sagas)
    ask Temporal whether the sagas of unfinished work are alive. Each violation is
    one line (kind: subject: detail), then a summary line with what each check
    counted. Each account's history is read from the event log, which keeps every
    event; a history whose start was swept from the outbox before the log existed (a
    database upgraded from an older release) is counted "not verifiable", not as a
    violation.
    """
    settings = load_settings()
    require_database_file(settings)
    try:
        with progress_bar() as progress:
            report = run_async(_check(settings, skip_sagas, progress))
    except DATABASE_ERRORS as error:
        raise database_failure(error, settings.database_url) from error
    except CheckConflict as error:
        fail(f"the declared checks cannot run together: {error}")
    if as_json:
        print_json(report.to_json())
    else:
        for violation in report.violations:
            typer.echo(violation.line())
        typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)
