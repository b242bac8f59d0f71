"""``python -m worker``: run the worker, send commands, migrate, and each context's own group."""

from __future__ import annotations

import typer

from worker.bootstrap import contexts
from worker.cli.common import (
    load_settings,
    print_json,
    quiet_library_loggers,
    run_async,
)
from worker.cli.errors import (
    DATABASE_ERRORS,
    database_failure,
    exit_process,
    run_app,
)
from worker.cli.running import dev, http, run
from worker.cli.send import send
from worker.config import (
    extra_contexts_from_environment,
    redact,
)
from worker.ops.audit import audit_app
from worker.ops.check.cli import check
from worker.ops.dlq.cli import dlq_app
from worker.ops.sagas import sagas_app
from worker.persistence import database
from worker.readside.cli import projections_app
from worker.web.cli import admins_app, tokens_app

app = typer.Typer(
    help="An async message-bus worker: commands from RabbitMQ, an inbox and outbox.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(sagas_app, name="sagas")
app.add_typer(audit_app, name="audit")
app.add_typer(dlq_app, name="dlq")
app.add_typer(projections_app, name="projections")
app.add_typer(tokens_app, name="tokens")
app.add_typer(admins_app, name="admins")
app.command(help=send.__doc__)(send)
app.command("check")(check)
app.command()(run)
app.command()(dev)
app.command()(http)


@db_app.command("migrate")
def migrate_command() -> None:
    """Apply tortoise's migrations to DATABASE_URL (safe to repeat)."""
    settings = load_settings()
    try:
        run_async(database.migrate(settings, contexts(settings)))
    except DATABASE_ERRORS as error:
        raise database_failure(error, settings.database_url) from error
    typer.echo(f"database {redact(settings.database_url)} is up to date")


@app.command("commands")
def list_commands(
    as_json: bool = typer.Option(False, "--json", help="Print the JSON schemas."),
) -> None:
    """List the command names and their JSON schemas."""
    commands = contexts(load_settings()).commands
    schemas = commands.json_schemas()
    if as_json:
        print_json(schemas)
        return
    for name, schema in schemas.items():
        fields = ", ".join(schema.get("properties", {}))
        typer.echo(f"{name:<16} queue={commands.queue_of(name)}  fields: {fields}")


def add_context_groups(cli: typer.Typer) -> typer.Typer:
    """Each bounded context's own group (``accounts``, ...), as its declaration offers it.

    Only ``EXTRA_CONTEXTS`` is read here, so that a mistake in another setting is
    still reported by the command run. When an extra context cannot be loaded, the
    service's own groups are still added, and the command run reports the error
    (every command that needs the contexts loads them again). Adding twice adds
    nothing more.
    """
    try:
        declared = contexts(extra=extra_contexts_from_environment()).all
    except Exception:
        declared = contexts(extra=()).all
    present = {group.name for group in cli.registered_groups}
    for context in declared:
        if context.cli is not None and context.cli_group not in present:
            cli.add_typer(context.cli(), name=context.cli_group)
    return cli


def main() -> None:
    """The console entry point: one line per failure, then a hard exit (see exit_process)."""
    quiet_library_loggers()
    exit_process(run_app(add_context_groups(app)))
