"""The failure policy: what kind of failure an exception is, and what is done about it.

Domain errors declare their class next to their type (``domain/shared/errors.py``
and each context's ``errors.py``);
this module adds the infrastructure's errors and the one table that turns a
class into behaviour. The consumer, the Temporal activities and the logs all
read it, so a new error type needs one line here and nothing else.

==========  =====================================================  ==========
class       what happens                                           log level
==========  =====================================================  ==========
transient   immediate retries, delayed retries, then the DLQ;      WARNING
            while the database is down, the breaker (probing)
conflict    the bus reloads and retries at once; then as transient INFO
invalid     straight to the DLQ, never retried                     WARNING
rejected    acked with the recorded outcome, never retried         INFO
bug         as transient (while the database is down, it is one)   ERROR
==========  =====================================================  ==========
"""

from __future__ import annotations

import logging
import sqlite3
import traceback
from dataclasses import dataclass

import aiormq.exceptions
import asyncpg
from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError

from domain.shared.errors import DomainError, FailureClass
from worker.bus.commands import InvalidCommand
from worker.bus.unit_of_work import DuplicateMessage

Failure = FailureClass

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
#: OSErrors that are about the local machine, not an unreachable dependency.
LOCAL_ERRORS: tuple[type[BaseException], ...] = (
    FileNotFoundError,
    FileExistsError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
)
#: Stacks kept in a dead letter: enough to find the line, small enough for a header.
STACK_LIMIT = 4000


@dataclass(frozen=True)
class Policy:
    """What the consumer does with a failure of one class (whether it is retried at
    all is the class's own ``retryable``, which the saga's activities read too)."""

    #: The database is asked whether it is down: if so, this is an outage, which
    #: opens the consumer's breaker and costs a probing message nothing.
    may_be_outage: bool
    log_level: int


POLICIES: dict[FailureClass, Policy] = {
    Failure.TRANSIENT: Policy(may_be_outage=True, log_level=logging.WARNING),
    Failure.CONFLICT: Policy(may_be_outage=False, log_level=logging.INFO),
    Failure.INVALID: Policy(may_be_outage=False, log_level=logging.WARNING),
    Failure.REJECTED: Policy(may_be_outage=False, log_level=logging.INFO),
    Failure.BUG: Policy(may_be_outage=True, log_level=logging.ERROR),
}


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, LOCAL_ERRORS):
        return False
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    if isinstance(error, OperationalError | sqlite3.OperationalError) and (
        "locked" in str(error) or "busy" in str(error) or "no such table" in str(error)
    ):
        return True
    cause = error.__cause__
    return cause is not None and cause is not error and _is_transient(cause)


def classify(error: BaseException) -> FailureClass:
    """The class of ``error``: declared by the domain, or decided here for the rest."""
    if isinstance(error, DuplicateMessage):
        return Failure.CONFLICT
    if isinstance(error, DomainError):
        return error.failure_class
    if isinstance(error, InvalidCommand):
        return Failure.INVALID
    if _is_transient(error):
        return Failure.TRANSIENT
    return Failure.BUG


def policy_of(failure: FailureClass) -> Policy:
    return POLICIES[failure]


def trimmed_stack(error: BaseException) -> str:
    """The innermost frames of ``error``'s traceback, at most ``STACK_LIMIT`` characters."""
    text = "".join(traceback.format_exception(error))
    return text if len(text) <= STACK_LIMIT else "…" + text[-(STACK_LIMIT - 1) :]
