"""What every CLI command shares: settings, logging, and one-line errors."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

from pydantic import ValidationError

from worker.config import Settings

T = TypeVar("T")


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
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in error.errors())
        fail(f"invalid configuration: {problems}", 2)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    for noisy in ("aiormq", "aio_pika", "tortoise"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # It logs every broker-side close as an error with a traceback; the worker
    # reports the same event as one warning line and reconnects.
    logging.getLogger("aiormq.connection").setLevel(logging.CRITICAL)


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))
