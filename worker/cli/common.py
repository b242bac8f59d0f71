"""What every CLI command shares: settings, logging, and one-line errors.

A user's mistake (a bad URL, a server that is down, a database that is missing or
not migrated, a bad option) ends the command with ONE line ``error: ...`` on
stderr and a non-zero exit code, never a traceback: ``run_app`` turns whatever
escapes a command into that line, ``LOG_LEVEL=DEBUG`` adds the traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from domain.shared.errors import InvalidValue
from domain.shared.ids import ID_PATTERN, validate_id
from worker.config import Settings

T = TypeVar("T")

#: Libraries that log connection trouble on their own; a one-shot command reports
#: it as its error line instead (LOG_LEVEL=DEBUG lets them speak).
LIBRARY_LOGGERS = ("aiormq", "aio_pika", "tortoise", "temporalio")


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code attached."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def fail(message: str, exit_code: int = 1) -> NoReturn:
    raise CliError(message, exit_code)


def load_settings() -> Settings:
    """The worker's settings, and every context's own checked with them: a bad value is
    one line and exit 2 now, not a failure of the first command that reads it."""
    try:
        settings = Settings()
        for declared in _context_settings(settings):
            declared()
        return settings
    except ValidationError as error:
        problems = "; ".join(
            f"{str(e['loc'][0]).upper()}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
        fail(f"invalid configuration: {problems}", 2)


def _context_settings(settings: Settings) -> list[type[Any]]:
    from worker.bootstrap import contexts

    try:
        declared = contexts(settings).all
    except Exception:  # a context that cannot load: the command run reports it
        return []
    return [context.settings for context in declared if context.settings is not None]


def debug_enabled() -> bool:
    """LOG_LEVEL=DEBUG, read straight from the environment (the settings may be invalid)."""
    return any(
        name.upper() == "LOG_LEVEL" and value.strip().upper() == "DEBUG"
        for name, value in os.environ.items()
    )


def quiet_library_loggers() -> None:
    """For one-shot commands: libraries log only CRITICAL unless LOG_LEVEL=DEBUG.

    aiormq, for one, logs "error when creating transport" before the command gets
    to say that RabbitMQ is unreachable. ``configure_logging`` (run, dev) sets the
    worker's own levels again afterwards.
    """
    if debug_enabled():
        return
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    for noisy in ("aiormq", "aio_pika", "tortoise"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Muted by quiet_library_loggers for one-shot commands; the worker hears it.
    logging.getLogger("temporalio").setLevel(logging.NOTSET)
    # It logs every broker-side close as an error with a traceback; the worker
    # reports the same event as one warning line and reconnects.
    logging.getLogger("aiormq.connection").setLevel(logging.CRITICAL)


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))


# --- what the user typed ---------------------------------------------------------------

#: How much of a user's input an error line repeats (a 5,000-character id is not echoed).
ECHO_WIDTH = 40


def shown(text: str, width: int = ECHO_WIDTH) -> str:
    """``text`` quoted for an error line; past ``width`` characters cut, with its length."""
    if len(text) <= width:
        return repr(text)
    return f"{text[:width]!r}… ({len(text)} characters)"


def seconds(at_least: float = 0.0, at_most: float = math.inf) -> Callable[[float], float]:
    """A typer callback for a number of seconds: finite, more than 0 and within the bounds.

    Typer takes ``nan``, ``inf`` and ``1e309`` (inf) as floats; a bare ``value <= 0``
    lets NaN through (every comparison with it is false), and typer's own min/max
    refuses it saying it should be at most the maximum.
    """
    low = f"at least {at_least:g}" if at_least > 0 else "more than 0"
    span = f"{low} and at most {at_most:g}" if at_most < math.inf else low

    def check(value: float) -> float:
        if not (math.isfinite(value) and value > 0 and at_least <= value <= at_most):
            raise typer.BadParameter(f"expected a finite number of seconds {span}, not {value:g}")
        return value

    return check


def valid_id(kind: str) -> Callable[[str], str]:
    """A CLI callback: the value if it can be the id of a ``kind`` ("account"), else
    one short line and exit 2 (every context's ids follow the kernel's pattern)."""

    def check(value: str) -> str:
        try:
            return validate_id(kind, value)
        except InvalidValue:  # its message repeats the whole value
            fail(f"invalid {kind} id {shown(value)}: it must match {ID_PATTERN}", 2)

    return check


async def open_database(settings: Settings) -> None:
    """Connect tortoise to ``DATABASE_URL`` with the tables of every bounded context."""
    from worker.bootstrap import contexts
    from worker.persistence import database

    await database.connect(settings, contexts(settings))
