"""``send --wait-saga``: wait for the saga a command requested, from its record's own state."""

from __future__ import annotations

from pathlib import Path

import typer

from worker.cli.common import CliError, fail, open_database, run_async
from worker.cli.errors import DATABASE_ERRORS, MIGRATE_HINT, database_failure
from worker.config import Settings
from worker.persistence import database
from worker.sagas.client import connect as temporal_connect
from worker.sagas.declaration import CONFLICTED, SagaDeclaration
from worker.sagas.settling import Settled, wait_until_settled

#: 0 for the record's ``succeeded`` state; 1 for the other ends (rejected, compensated,
#: resolved); 3 no end in time, 6 unreachable.
EXIT_BY_SAGA_STATE = {"needs_operator": 4, "failed": 5, CONFLICTED: 7}


def wait_for_saga(
    settings: Settings, saga: SagaDeclaration, business_id: str, timeout: float
) -> None:
    """Wait for the record's own state (read first, so another request's run is never
    reported); print ``saga <state> <kind>_id=<id>``, with the reason when it conflicted."""

    async def wait() -> Settled | None:
        try:
            client = await temporal_connect(settings)
        except RuntimeError as error:
            fail(f"cannot reach Temporal at {settings.temporal_address}: {error}", 6)
        try:
            await open_database(settings)
            return await wait_until_settled(client, saga, business_id, timeout)
        except DATABASE_ERRORS as error:
            raise CliError(str(database_failure(error, settings.database_url)), 6) from error
        finally:
            await database.close()

    path = settings.sqlite_path  # reading never creates the file, as connecting would
    if path is not None and path != ":memory:" and not Path(path).exists():
        fail(f"the database file {path} does not exist: {MIGRATE_HINT}", 6)
    settled = run_async(wait())
    if settled is None:
        fail(f"saga of {saga.kind} {business_id} did not settle within {timeout:g}s", 3)
    reason = f": {settled.reason}" if settled.state == CONFLICTED else ""
    typer.echo(f"saga {settled.state} {saga.id_key}={business_id}{reason}")
    succeeded = settled.state == saga.record.succeeded
    raise typer.Exit(0 if succeeded else EXIT_BY_SAGA_STATE.get(settled.state, 1))
