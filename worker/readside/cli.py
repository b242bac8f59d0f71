"""``worker projections``: how far each event handler has come, and rebuilding a projection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import typer

from worker.bootstrap import contexts
from worker.cli.common import fail, load_settings, print_json
from worker.cli.reading import read_database
from worker.ops.check.cli import progress_bar
from worker.readside.declarations import Projection, Subscription
from worker.readside.progress import Standing, standing
from worker.readside.rebuild import RebuildRefused, plan, rebuild

projections_app = typer.Typer(
    help="The event handlers (projections and policies): lag, state, rebuilds.",
    no_args_is_help=True,
)
#: A handler process says it is alive every second; after this long without a word it
#: counts as stopped.
STOPPED_AFTER = timedelta(seconds=10)


def state_of(where: Standing, now: datetime) -> str:
    """``rebuilding``, ``stopped``, ``failing``, ``catching_up`` or ``live``."""
    row = where.row
    seen, failed, applied = row.get("seen_at"), row.get("last_error_at"), row.get("last_applied_at")
    if row.get("rebuild_owner"):
        return "rebuilding"
    if seen is None or now - _utc(seen) > STOPPED_AFTER:
        return "stopped"
    if failed is not None and (applied is None or _utc(failed) > _utc(applied)):
        return "failing"
    return "catching_up" if where.lag_events else "live"


def _utc(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def standing_json(where: Standing, now: datetime) -> dict[str, Any]:
    return {
        "name": where.name,
        "kind": where.kind,
        "position": where.position,
        "head": where.head,
        "lag_events": where.lag_events,
        "lag_seconds": where.lag_seconds,
        "state": state_of(where, now),
        "last_error": where.row.get("last_error"),
    }


def _subscriptions() -> tuple[Subscription, ...]:
    return contexts(load_settings()).subscriptions


@projections_app.command("list")
def list_handlers(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Each handler: its position (every event of its types up to it is applied), the
    log's head, its lag in events and in seconds, its state and its last error."""
    from tortoise import connections

    async def read() -> list[dict[str, Any]]:
        db = connections.get("default")
        now = datetime.now(UTC)
        return [standing_json(await standing(db, s), now) for s in _subscriptions()]

    found = read_database(read)
    if as_json:
        print_json(found)
        return
    for h in found:
        typer.echo(
            f"{h['name']:<24} {h['kind']:<10} {h['position']:>9}/{h['head']:<9} "
            f"lag {h['lag_events']:>6} events {h['lag_seconds']:>9.1f}s  {h['state']}"
            + (f"  last error: {h['last_error']}" if h["last_error"] else "")
        )


def _projection(name: str) -> Projection:
    try:
        found = contexts(load_settings()).subscription(name)
    except KeyError as unknown:
        fail(str(unknown.args[0]), 2)
    if not isinstance(found, Projection):
        fail(f"{name} is a policy: policies are never rebuilt (they would act again)", 2)
    return found


@projections_app.command("rebuild")
def rebuild_projection(
    name: str = typer.Argument(..., metavar="NAME", help="The projection, e.g. account_statement."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be done; do nothing."),
) -> None:
    """Rebuild a projection from the event log into fresh tables, then swap them in.

    The live tables keep serving reads (and taking events) until the swap; one rebuild
    of a projection runs at a time. Exits 0 once the new tables are live.
    """
    from tortoise import connections

    projection = _projection(name)

    async def run() -> str:
        if dry_run:
            p = await plan(connections.get("default"), projection)
            return (
                f"would rebuild {name} from {p.events} events of the log (head {p.head}) "
                f"into generation {p.new_generation}, replacing generation {p.live_generation}"
            )
        with progress_bar() as bar:
            done = await rebuild(projection, bar)
        return (
            f"rebuilt {name}: {done.applied} events into generation "
            f"{done.plan.new_generation}, live from position {done.swapped_at}"
        )

    try:
        typer.echo(read_database(run))
    except RebuildRefused as refused:
        fail(str(refused))
