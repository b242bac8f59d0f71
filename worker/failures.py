"""What kind of failure an exception is, decided in one place.

The consumer acts on the class: *transient* failures wait and try again for as
long as it takes (a database restart must not dead-letter anything), *conflict*
is retried by the bus, and a *bug* gets a few immediate retries before the
message is dead-lettered with the error.
"""

from __future__ import annotations

import enum
import sqlite3

import aiormq.exceptions
import asyncpg
from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError

from domain.errors import ConcurrencyConflict
from worker.unit_of_work import DuplicateMessage


class Failure(enum.StrEnum):
    TRANSIENT = "transient"
    CONFLICT = "conflict"
    BUG = "bug"


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    OSError,
    TimeoutError,
    DBConnectionError,
    TransactionManagementError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    # A missing table is a deployment waiting for its migration, not a bad message.
    asyncpg.exceptions.UndefinedTableError,
    aiormq.exceptions.AMQPConnectionError,
)


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    if isinstance(error, OperationalError | sqlite3.OperationalError) and (
        "locked" in str(error) or "busy" in str(error) or "no such table" in str(error)
    ):
        return True
    cause = error.__cause__
    return cause is not None and cause is not error and _is_transient(cause)


def classify(error: BaseException) -> Failure:
    if isinstance(error, ConcurrencyConflict | DuplicateMessage):
        return Failure.CONFLICT
    if _is_transient(error):
        return Failure.TRANSIENT
    return Failure.BUG
