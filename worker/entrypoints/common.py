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
import os
import sys
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

from pydantic import ValidationError

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
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{str(e['loc'][0]).upper()}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
        fail(f"invalid configuration: {problems}", 2)


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


# --- turning failures into one line ---------------------------------------------------
