"""``python -m worker``: run the worker, send commands, read accounts, migrate."""

from __future__ import annotations

import asyncio
import signal
import sys

import typer

from worker import commands as contract
from worker.adapters import database
from worker.bootstrap import bootstrap
from worker.config import redact
from worker.entrypoints.accounts import accounts_app
from worker.entrypoints.common import (
    CliError,
    configure_logging,
    load_settings,
    print_json,
    run_async,
)
from worker.entrypoints.send import send

app = typer.Typer(
    help="An async message-bus worker: commands from RabbitMQ, an inbox and outbox.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
app.command(help=send.__doc__)(send)


@app.command()
def run(
    migrate: bool = typer.Option(False, "--migrate", help="Apply migrations before starting."),
) -> None:
    """Declare the topology, consume commands and relay the outbox until SIGTERM/SIGINT."""
    settings = load_settings()
    configure_logging(settings.log_level)
    worker = bootstrap(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        if migrate:
            await database.migrate(settings)
        await database.connect(settings)
        try:
            await worker.service.run(stop)
        finally:
            await database.close()

    typer.echo(
        f"worker starting: broker {redact(settings.amqp_url)}, "
        f"database {redact(settings.database_url)}",
        err=True,
    )
    run_async(main())


@db_app.command("migrate")
def migrate_command() -> None:
    """Apply tortoise's migrations to DATABASE_URL (safe to repeat)."""
    settings = load_settings()
    run_async(database.migrate(settings))
    typer.echo(f"database {redact(settings.database_url)} is up to date")


@app.command("commands")
def list_commands(
    as_json: bool = typer.Option(False, "--json", help="Print the JSON schemas."),
) -> None:
    """List the command names and their JSON schemas."""
    schemas = contract.json_schemas()
    if as_json:
        print_json(schemas)
        return
    for name, schema in schemas.items():
        fields = ", ".join(schema.get("properties", {}))
        typer.echo(f"{name:<16} queue={contract.COMMANDS[name].queue}  fields: {fields}")


def main() -> None:
    try:
        app()
    except CliError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
