"""The failure policy: one class per exception, and one behaviour per class."""

from __future__ import annotations

import sqlite3

import aiormq.exceptions
import asyncpg
import pytest
from tortoise.exceptions import (
    DBConnectionError,
    IntegrityError,
    OperationalError,
    TransactionManagementError,
)

from domain.accounts.errors import InsufficientFunds
from domain.shared.errors import ConcurrencyConflict, InvalidValue
from worker.bus.commands import InvalidCommand
from worker.bus.failures import STACK_LIMIT, Failure, classify, policy_of, trimmed_stack
from worker.bus.unit_of_work import DuplicateMessage


def caused_by(cause: BaseException, error: BaseException | None = None) -> BaseException:
    """``error`` raised ``from cause``, the way adapters wrap driver errors."""
    error = error if error is not None else RuntimeError("wrapped")
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "error",
    [ConcurrencyConflict("account acc-1 changed"), DuplicateMessage("msg-1")],
    ids=["concurrency-conflict", "duplicate-message"],
)
def test_a_conflict_is_classified_as_conflict(error: BaseException) -> None:
    assert classify(error) is Failure.CONFLICT


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError("reset by peer"),
        OSError("network is unreachable"),
        TimeoutError(),
        asyncpg.exceptions.ConnectionDoesNotExistError("x"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.TooManyConnectionsError("too many clients"),
        asyncpg.InterfaceError("connection is closed"),
        DBConnectionError("cannot connect"),
        TransactionManagementError("transaction was rolled back"),
        OperationalError("database is locked"),
        OperationalError("database table is locked: accounts"),
        OperationalError("the database is busy"),
        sqlite3.OperationalError("database is locked"),
        aiormq.exceptions.AMQPConnectionError("connection lost"),
        caused_by(ConnectionResetError("reset by peer")),
        caused_by(caused_by(TimeoutError())),
        caused_by(OperationalError("database is locked")),
    ],
    ids=lambda error: f"{type(error).__name__}({error})",
)
def test_an_infrastructure_hiccup_is_classified_as_transient(error: BaseException) -> None:
    assert classify(error) is Failure.TRANSIENT


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad"),
        KeyError("missing"),
        TypeError("wrong"),
        AttributeError("no such attribute"),
        AssertionError("impossible"),
        RuntimeError("unexpected"),
        OperationalError("syntax error"),
        OperationalError('relation "accounts" does not exist'),
        IntegrityError("duplicate key value violates unique constraint"),
        caused_by(ValueError("bad")),
        FileNotFoundError("/etc/worker.conf"),
        PermissionError("read-only file system"),
    ],
    ids=lambda error: f"{type(error).__name__}({error})",
)
def test_anything_else_is_classified_as_a_bug(error: BaseException) -> None:
    assert classify(error) is Failure.BUG


def test_an_operational_error_caused_by_a_dropped_connection_is_transient() -> None:
    error = caused_by(ConnectionResetError("reset by peer"), OperationalError("connection failed"))

    assert classify(error) is Failure.TRANSIENT


def test_a_conflict_wins_over_a_transient_cause() -> None:
    assert classify(caused_by(ConnectionResetError(), ConcurrencyConflict("x"))) is Failure.CONFLICT


def test_an_exception_that_is_its_own_cause_does_not_loop_forever() -> None:
    error = RuntimeError("self-caused")
    error.__cause__ = error

    assert classify(error) is Failure.BUG


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("no such table: accounts"),
        caused_by(asyncpg.exceptions.UndefinedTableError('relation "inbox" does not exist')),
    ],
    ids=["sqlite", "postgres"],
)
def test_a_missing_table_waits_for_the_migration_instead_of_dead_lettering(
    error: BaseException,
) -> None:
    assert classify(error) is Failure.TRANSIENT


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (InvalidValue("not a decimal amount"), Failure.INVALID),
        (InvalidCommand("malformed_json", "not JSON"), Failure.INVALID),
        (InsufficientFunds("not enough money"), Failure.REJECTED),
    ],
    ids=["invalid-value", "invalid-command", "business-refusal"],
)
def test_domain_errors_bring_the_class_they_declare(
    error: BaseException, expected: Failure
) -> None:
    assert classify(error) is expected


def test_only_invalid_and_rejected_are_never_retried() -> None:
    retried = {failure for failure in Failure if failure.retryable}

    assert retried == {Failure.TRANSIENT, Failure.CONFLICT, Failure.BUG}


def test_only_transient_failures_and_bugs_may_reveal_an_outage() -> None:
    outages = [f for f in Failure if policy_of(f).may_be_outage]

    assert outages == [Failure.TRANSIENT, Failure.BUG]


def test_a_stack_is_trimmed_to_its_innermost_frames() -> None:
    error: BaseException = ValueError("the first cause")
    for layer in range(100):
        try:
            raise RuntimeError(f"layer {layer}") from error
        except RuntimeError as raised:
            error = raised

    stack = trimmed_stack(error)

    assert len(stack) <= STACK_LIMIT
    assert stack.startswith("…")
    assert stack.rstrip().endswith("RuntimeError: layer 99")
