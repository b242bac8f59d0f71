"""``worker audit``: the operator audit trail, and what operator commands share to write it.

An operator action without its audit record is not acceptable: commands that act
open ``audit_trail`` first (it refuses, before anything is done, when the database
cannot take the record), then call ``record_done`` once the action happened.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import typer
from tortoise import connections
from tortoise.fields import CharField

from worker.cli.common import CliError, fail, load_settings, open_database, print_json, run_async
from worker.cli.errors import DATABASE_ERRORS, MIGRATE_HINT, database_failure
from worker.config import Settings
from worker.ops.audit_log import AuditEntry, list_actions, record_action
from worker.persistence import database
from worker.persistence.models import AuditRow

audit_app = typer.Typer(help="The operator audit trail.", no_args_is_help=True)
#: More than any terminal wants; the database refuses a LIMIT past 64 bits.
MAX_LIMIT = 100_000


def require_database_file(settings: Settings) -> None:
    """Reading or auditing never creates the SQLite file (nor its directory) as connecting does."""
    path = settings.sqlite_path
    if path is not None and path != ":memory:" and not Path(path).exists():
        fail(f"the database file {path} does not exist: {MIGRATE_HINT}")


@asynccontextmanager
async def audit_trail(settings: Settings) -> AsyncIterator[None]:
    """Tortoise connected to a database whose audit table answers, or one error line.

    Entered before an operator action, so that a database that is down, missing or
    not migrated stops the action before it does anything.
    """
    require_database_file(settings)
    try:
        await open_database(settings)
        await connections.get("default").execute_query("SELECT 1 FROM audit_log WHERE 1 = 0")
    except DATABASE_ERRORS as error:
        await database.close()
        failure = database_failure(error, settings.database_url)
        fail(f"{failure}; nothing was done (an operator action needs its audit record)")
    try:
        yield
    finally:
        await database.close()


async def record_done(
    settings: Settings,
    done: str,
    operator: str,
    action: str,
    target: str,
    reason: str,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Record an action that happened; if that fails now, say what was done, unrecorded.

    ``done`` describes the action for that message ("transfer t-1 was restarted").
    """
    try:
        return await record_action(operator, action, target, reason, before, after)
    except DATABASE_ERRORS as error:
        failure = database_failure(error, settings.database_url)
        raise CliError(f"{done}, but its audit record could not be written: {failure}") from error


def _short(value: Any, width: int = 24) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def changes(before: Any, after: Any) -> str:
    """What an action changed, compactly: ``state: needs_operator→running``."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
        return ", ".join(f"{k}: {_short(before.get(k))}→{_short(after.get(k))}" for k in keys)
    if before == after:
        return ""
    return f"{_short(before)}→{_short(after)}"


def _width(column: str) -> int:
    field = AuditRow._meta.fields_map[column]
    assert isinstance(field, CharField)
    return field.max_length


def _fits(option: str, value: str | None, column: str) -> None:
    """A filter longer than its column could match nothing: the database would refuse it."""
    width = _width(column)
    if value is not None and len(value) > width:
        fail(f"{option} is {len(value)} characters long; an audit {column} has at most {width}", 2)


async def _query(
    settings: Settings, limit: int, action: str | None, target: str | None
) -> list[AuditEntry]:
    try:
        await open_database(settings)
        return await list_actions(limit=limit, action=action, target=target)
    finally:
        await database.close()


@audit_app.command("list")
def list_command(
    limit: int = typer.Option(
        50, "--limit", min=1, max=MAX_LIMIT, help="At most this many, newest first."
    ),
    action: str = typer.Option(
        None, "--action", help="One action (saga.retry) or a prefix of them (saga, dlq)."
    ),
    target: str = typer.Option(None, "--target", help="Only actions on this id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON, with before and after."),
) -> None:
    """Who did what, when, to what and why: operator actions on the DLQ and on sagas."""
    _fits("--action", action, "action")
    _fits("--target", target, "target")
    settings = load_settings()
    require_database_file(settings)
    try:
        entries = run_async(_query(settings, limit, action, target))
    except DATABASE_ERRORS as error:
        raise database_failure(error, settings.database_url) from error
    if as_json:
        print_json([entry.to_json() for entry in entries])
        return
    for e in entries:
        changed = changes(e.before, e.after)
        typer.echo(
            f"{e.at:%Y-%m-%d %H:%M:%S} {e.operator:<12} {e.action:<16} {e.target:<24} "
            f"{e.reason}" + (f"  [{changed}]" if changed else "")
        )
