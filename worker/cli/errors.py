"""Turning whatever escapes a CLI command into one line ``error: ...`` and an exit code.

A user's mistake (a bad URL, a server that is down, a database that is missing or
not migrated, a bad option) never shows a traceback; ``LOG_LEVEL=DEBUG`` adds it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import sys
import traceback
from collections.abc import Iterator
from typing import NoReturn

import asyncpg
import typer
from aio_pika.exceptions import (
    AMQPConnectionError,
    AMQPError,
    AuthenticationError,
    ChannelClosed,
    DeliveryError,
    InvalidFrameError,
    ProbableAuthenticationError,
    PublishError,
)
from pydantic import ValidationError
from temporalio.service import RPCError
from tortoise.exceptions import BaseORMException

from worker.cli.common import CliError, debug_enabled
from worker.config import Settings, redact

MIGRATE_HINT = "run `python -m worker db migrate`"
#: What talking to the database can raise when the database (not the code) is at fault.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    BaseORMException,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    sqlite3.Error,
)
#: What talking to RabbitMQ can raise when the broker or its URL is at fault.
AMQP_ERRORS: tuple[type[BaseException], ...] = (AMQPError, OSError)


def message_of(error: BaseException) -> str:
    """The error's text on one line; never empty (``TimeoutError()`` has no text)."""
    text = " ".join(str(error).split())
    if text:
        return text
    return "timed out" if isinstance(error, TimeoutError) else type(error).__name__


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error, then what it was raised from or while handling, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _database_layer(error: BaseException) -> bool:
    return isinstance(
        error, BaseORMException | asyncpg.PostgresError | asyncpg.InterfaceError | sqlite3.Error
    )


def missing_schema(error: BaseException) -> str | None:
    """Which of "table" or "column" is missing if the schema lags behind the code."""
    for cause in causes(error):
        if not _database_layer(cause):
            continue
        text = str(cause)
        if isinstance(cause, asyncpg.UndefinedTableError) or "no such table" in text:
            return "table"
        if text.startswith('relation "') and text.endswith("does not exist"):
            return "table"
        if isinstance(cause, asyncpg.UndefinedColumnError) or "no such column" in text:
            return "column"
    return None


def _at(url: str | None) -> str:
    return f" at {redact(url)}" if url else ""


def database_failure(error: BaseException, database_url: str | None) -> CliError:
    """The one line for a failure talking to the database at ``database_url``."""
    where = _at(database_url)
    missing = missing_schema(error)
    if missing == "table":
        return CliError(f"the database{where} is not migrated: {MIGRATE_HINT}")
    if missing == "column":
        return CliError(
            f"the database{where} is behind the code ({message_of(error)}): {MIGRATE_HINT}"
        )
    postgres = next((c for c in causes(error) if isinstance(c, asyncpg.PostgresError)), None)
    if isinstance(postgres, asyncpg.InvalidCatalogNameError):
        return CliError(f"{message_of(postgres)}{where} (create it, then {MIGRATE_HINT})")
    if isinstance(postgres, asyncpg.InvalidAuthorizationSpecificationError):
        return CliError(f"the database{where} refused the login: {message_of(postgres)}")
    if postgres is not None:
        return CliError(f"the database{where} refused: {message_of(postgres)}")
    unopenable = any("unable to open database file" in str(c) for c in causes(error))
    if unopenable or isinstance(error, OSError | asyncpg.InterfaceError):
        sqlite = database_url is not None and database_url.startswith("sqlite")
        verb = "open" if sqlite else "reach"
        return CliError(f"cannot {verb} the database{where}: {message_of(error)}")
    return CliError(f"the database{where} failed: {message_of(error)}")


def amqp_failure(error: BaseException, amqp_url: str | None) -> CliError:
    """The one line for a failure talking to RabbitMQ at ``amqp_url``."""
    where = _at(amqp_url)
    text = message_of(error)
    if isinstance(error, AuthenticationError | ProbableAuthenticationError):
        return CliError(f"RabbitMQ{where} refused the login: {text}")
    if isinstance(error, InvalidFrameError) and "Connection.Close" in text:
        return CliError(
            f"RabbitMQ{where} closed the connection while opening it "
            "(does the vhost exist, and may this user use it?)"
        )
    if isinstance(error, PublishError):
        return CliError(f"RabbitMQ{where} could not route the message: {text}")
    if isinstance(error, DeliveryError):
        return CliError(f"the broker{where} refused the message (nack): {text}")
    if isinstance(error, ChannelClosed):
        return CliError(f"RabbitMQ{where} refused: {text}")
    if isinstance(error, AMQPConnectionError | OSError):
        return CliError(f"cannot reach RabbitMQ{where}: {text}")
    return CliError(f"RabbitMQ{where} failed: {text}")


def _settings_or_none() -> Settings | None:
    try:
        return Settings()
    except ValidationError:
        return None


def explain(error: BaseException) -> CliError | None:
    """The one line for a failure that escaped a command; None if nothing is known of it."""
    if isinstance(error, CliError):
        return error
    settings = _settings_or_none()
    if _database_layer(error):
        return database_failure(error, settings.database_url if settings else None)
    if isinstance(error, AMQPError):
        return amqp_failure(error, settings.amqp_url if settings else None)
    if isinstance(error, RPCError):
        where = f" at {settings.temporal_address}" if settings else ""
        return CliError(f"Temporal{where} refused: {message_of(error)}")
    # A bare OSError (say ConnectionRefusedError) does not tell whose it is: it is
    # reported like any other unexpected exception, with its type.
    return None


def print_error(message: str) -> None:
    typer.echo(f"error: {' '.join(message.split())}", err=True)


def report(error: BaseException) -> int:
    """Print ``error`` as one line (with the traceback first if LOG_LEVEL=DEBUG)."""
    debug = debug_enabled()
    failure = explain(error)
    plain = isinstance(error, CliError) and error.__cause__ is error.__context__ is None
    if debug and not plain:
        traceback.print_exception(error)
    if failure is not None:
        print_error(str(failure))
        return failure.exit_code
    hint = "" if debug else " (LOG_LEVEL=DEBUG shows the traceback)"
    print_error(f"{type(error).__name__}: {message_of(error)}{hint}")
    return 1


def _usage_error(error: typer.TyperException) -> int:
    """A bad option or argument, as one line (typer would draw a box around it)."""
    code = int(getattr(error, "exit_code", 2))
    if type(error).__name__ == "NoArgsIsHelpError":  # the help is printed already
        return code
    ctx = getattr(error, "ctx", None)
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    print_error(f"{error.format_message().rstrip('.')}{hint}")
    return code


def _exit_code(exit_: SystemExit) -> int:
    if exit_.code is None:
        return 0
    if isinstance(exit_.code, int):
        return exit_.code
    print_error(str(exit_.code))
    return 1


def run_app(app: typer.Typer) -> int:
    """Run the CLI and return its exit code; every failure is printed as one line."""
    try:
        result = app(standalone_mode=False)
    except SystemExit as exit_:
        return _exit_code(exit_)
    except KeyboardInterrupt:
        return 130
    except typer.Abort:
        print_error("aborted")
        return 1
    except typer.TyperException as error:
        return _usage_error(error)
    except Exception as error:
        return report(error)
    # Without standalone mode, typer returns the code of a typer.Exit.
    return result if isinstance(result, int) else 0


def exit_process(code: int) -> NoReturn:
    """Flush and leave at once, skipping interpreter finalisation.

    The Temporal SDK's native threads can abort a short-lived process while the
    interpreter shuts down ("Fatal Python error: PyGILState_Release",
    temporalio/sdk-python#300); every command has finished its work by now.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (| head) or stream
            stream.flush()
    os._exit(code)
