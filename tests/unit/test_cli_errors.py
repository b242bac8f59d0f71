"""A user's mistake becomes one line ``error: ...``: the checks that need no server.

AMQP_URL and DATABASE_URL are validated when the settings are read, so a typo stops
every command with exit 2 before anything connects; failures that escape a command
are turned into one line by ``run_app``.
"""

from __future__ import annotations

import sqlite3

import pytest
import typer
from aio_pika.exceptions import AMQPConnectionError
from pydantic import ValidationError
from tortoise.exceptions import DBConnectionError, OperationalError

from worker.cli import main as cli
from worker.cli.common import CliError, load_settings, shown
from worker.cli.errors import database_failure, explain, message_of, run_app
from worker.config import Settings, redact
from worker.ops import audit
from worker.ops.dlq.editing import require_command


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No setting comes from the environment unless the test sets it."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# --- AMQP_URL -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "amqp://guest:guest@127.0.0.1:5672/",
        "amqps://user:pw@rabbit.example/vhost",
        "amqp://rabbit",
        "amqp://u:p@[::1]:5672/%2F",
        "amqp://u:p%2Fw@host:1/",
        "amqp://u:p@host:65535/",
    ],
)
def test_valid_amqp_urls_are_accepted(clean_env: pytest.MonkeyPatch, url: str) -> None:
    clean_env.setenv("AMQP_URL", url)

    assert Settings().amqp_url == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("garbage", "not a URL"),
        ("", "not a URL"),
        ("http://host:5672/", "scheme must be amqp or amqps"),
        ("postgres://host/db", "scheme must be amqp or amqps"),
        ("amqp://", "no host"),
        ("amqp:///vhost", "no host"),
        ("amqp://user:pw@:5672/", "no host"),
        ("amqp://host:0/", "port 0 is out of range"),
        ("amqp://host:65536/", "bad host or port"),
        ("amqp://host:port/", "bad host or port"),
        ("amqp://[::1/", "bad host or port"),
    ],
)
def test_a_bad_amqp_url_is_refused_naming_the_variable(
    clean_env: pytest.MonkeyPatch, url: str, reason: str
) -> None:
    clean_env.setenv("AMQP_URL", url)

    with pytest.raises(ValidationError, match="amqp_url") as raised:
        Settings()

    assert reason in raised.value.errors()[0]["msg"]


def test_a_url_error_never_quotes_the_password(clean_env: pytest.MonkeyPatch) -> None:
    # An unencoded "/" cuts the password in two: the URL is broken, the secret stays.
    clean_env.setenv("AMQP_URL", "amqp://user:top/secret@host:5672/")

    with pytest.raises(ValidationError) as raised:
        Settings()

    message = raised.value.errors()[0]["msg"]
    assert "top" not in message
    assert "secret" not in message


# --- DATABASE_URL -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://.data/worker.sqlite3",
        "sqlite:///var/lib/worker/db.sqlite3",
        "sqlite://:memory:",
        "postgres://worker:pw@db:5432/accounts",
        "postgres://db/accounts?sslmode=require",
        "asyncpg://u:p@[::1]:5432/db",
        "postgres:///accounts?host=/var/run/postgresql",
    ],
)
def test_valid_database_urls_are_accepted(clean_env: pytest.MonkeyPatch, url: str) -> None:
    clean_env.setenv("DATABASE_URL", url)

    assert Settings().database_url == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("garbage", "not a URL"),
        ("/var/lib/worker.sqlite3", "not a URL"),
        ("mysql://u:p@db/x", "scheme must be sqlite, postgres, postgresql or asyncpg"),
        ("http://db/x", "scheme must be sqlite, postgres, postgresql or asyncpg"),
        ("sqlite://", "no file path"),
        ("postgres:///accounts", "no host"),
        ("postgres://u:p@/accounts", "no host"),
        ("postgres://db:0/accounts", "port 0 is out of range"),
        ("postgres://db:70000/accounts", "bad host or port"),
        ("asyncpg://db:five/accounts", "bad host or port"),
    ],
)
def test_a_bad_database_url_is_refused_naming_the_variable(
    clean_env: pytest.MonkeyPatch, url: str, reason: str
) -> None:
    clean_env.setenv("DATABASE_URL", url)

    with pytest.raises(ValidationError, match="database_url") as raised:
        Settings()

    assert reason in raised.value.errors()[0]["msg"]


def test_load_settings_turns_every_problem_into_one_line_with_exit_2(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("AMQP_URL", "http://rabbit/")
    clean_env.setenv("DATABASE_URL", "nope")

    with pytest.raises(CliError) as raised:
        load_settings()

    message = str(raised.value)
    assert raised.value.exit_code == 2
    assert "\n" not in message
    assert message.startswith("invalid configuration: ")
    assert "AMQP_URL: scheme must be amqp or amqps" in message
    assert "DATABASE_URL: not a URL" in message
    assert "Value error" not in message


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///tmp/x.db",
        "sqlite://:memory:",
        "postgres://db/x",
    ],
)
def test_sqlite_path_is_what_tortoise_opens(clean_env: pytest.MonkeyPatch, url: str) -> None:
    expected = {"sqlite:///tmp/x.db": "/tmp/x.db", "sqlite://:memory:": ":memory:"}.get(url)

    assert Settings(database_url=url).sqlite_path == expected


# --- redact -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:secret@[::1]:5432/db", "postgres://u:***@[::1]:5432/db"),
        ("amqp://u:secret@[fe80::1]/vhost", "amqp://u:***@[fe80::1]/vhost"),
        ("amqp://u:secret@[::1/vhost", "amqp://***@[::1/vhost"),
    ],
)
def test_redact_keeps_ipv6_hosts_and_survives_unparsable_urls(url: str, expected: str) -> None:
    assert redact(url) == expected


# --- one line per failure -----------------------------------------------------------


def test_an_empty_timeout_message_still_says_something() -> None:
    assert message_of(TimeoutError()) == "timed out"
    assert message_of(ValueError("two\n  lines")) == "two lines"


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("no such table: accounts"),
        OperationalError('relation "accounts" does not exist'),
        OperationalError(sqlite3.OperationalError("no such table: accounts")),
    ],
)
def test_a_missing_table_means_the_database_is_not_migrated(error: Exception) -> None:
    failure = database_failure(error, "postgres://u:secret@db/x")

    assert str(failure) == (
        "the database at postgres://u:***@db/x is not migrated: run `python -m worker db migrate`"
    )
    assert failure.exit_code == 1


def test_an_unreachable_database_is_named_without_its_password() -> None:
    error = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)")

    failure = database_failure(error, "postgres://u:secret@127.0.0.1:1/x")

    assert str(failure).startswith("cannot reach the database at postgres://u:***@127.0.0.1:1/x")


def test_tortoise_and_amqp_errors_that_escape_a_command_are_explained(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("DATABASE_URL", "postgres://u:secret@db:5432/x")

    database = explain(DBConnectionError("Can't establish connection to database x"))
    broker = explain(AMQPConnectionError(111, "Connect call failed"))

    assert database is not None
    assert str(database).startswith("cannot reach the database at postgres://u:***@db:5432/x")
    assert broker is not None
    assert str(broker).startswith("cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:5672/")
    assert explain(ValueError("a bug")) is None


def _app_raising(error: BaseException) -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.command()
    def boom(times: int = typer.Option(1, min=1)) -> None:
        raise error

    @app.command()
    def fine() -> None:
        raise typer.Exit(4)

    return app


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (CliError("no account 'x'"), 1, "error: no account 'x'"),
        (CliError("bad input", 2), 2, "error: bad input"),
        (
            OperationalError("no such table: accounts"),
            1,
            "error: the database at sqlite://.data/worker.sqlite3 is not migrated: "
            "run `python -m worker db migrate`",
        ),
        (
            KeyError("x"),
            1,
            "error: KeyError: 'x' (LOG_LEVEL=DEBUG shows the traceback)",
        ),
        (
            ConnectionRefusedError(111, "refused"),
            1,
            "error: ConnectionRefusedError: [Errno 111] refused "
            "(LOG_LEVEL=DEBUG shows the traceback)",
        ),
        (KeyboardInterrupt(), 130, None),
    ],
)
def test_run_app_prints_one_line_and_returns_the_exit_code(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: BaseException,
    code: int,
    line: str | None,
) -> None:
    clean_env.setattr("sys.argv", ["worker", "boom"])

    assert run_app(_app_raising(error)) == code

    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines() == ([line] if line else [])


def test_with_log_level_debug_the_traceback_comes_first(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("LOG_LEVEL", "debug")
    clean_env.setattr("sys.argv", ["worker", "boom"])

    assert run_app(_app_raising(KeyError("x"))) == 1

    err = capsys.readouterr().err.splitlines()
    assert err[0] == "Traceback (most recent call last):"
    assert err[-1] == "error: KeyError: 'x'"


@pytest.mark.parametrize(
    ("argv", "code", "start"),
    [
        (["boom", "--times", "0"], 2, "error: Invalid value for '--times'"),
        (["boom", "--nope"], 2, "error: No such option: --nope"),
        (["nope"], 2, "error: No such command 'nope'"),
        (["fine"], 4, None),
    ],
)
def test_usage_errors_are_one_line_too(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    start: str | None,
) -> None:
    clean_env.setattr("sys.argv", ["worker", *argv])

    assert run_app(_app_raising(ValueError())) == code

    err = capsys.readouterr().err.splitlines()
    if start is None:
        assert err == []
    else:
        assert len(err) == 1
        assert err[0].startswith(start)


# --- what the user typed: refused before anything connects ----------------------------

#: Servers that are not there: a check that let the input through would say so instead.
NOWHERE = {
    "AMQP_URL": "amqp://guest:guest@127.0.0.1:1/",
    "DATABASE_URL": "sqlite:///nonexistent/dir/worker.sqlite3",
    "TEMPORAL_ADDRESS": "127.0.0.1:1",
}
DEPOSIT = ["send", "Deposit", "account_id=acc-1", "amount=1.00", "currency=EUR"]


def run_worker(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, list[str]]:
    """``python -m worker ARGV`` in this process: its exit code and its stderr lines."""
    for name, value in NOWHERE.items():
        env.setenv(name, value)
    env.setattr("sys.argv", ["worker", *argv])
    code = run_app(cli.add_context_groups(cli.app))
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(
    ("option", "value", "line"),
    [
        (
            "--message-id",
            "ü" * 128,
            "error: invalid_message_id: the message id is 256 bytes long; at most 255 are allowed",
        ),
        (
            "--correlation-id",
            "x" * 300,
            "error: invalid_correlation_id: the correlation id is 300 bytes long; "
            "at most 255 are allowed",
        ),
        (
            "--message-id",
            "transfer-x/y/1",
            "error: reserved_message_id: message ids of the form transfer-<id>/<step>/... "
            "are the sagas' own",
        ),
        (
            "--message-id",
            "",
            "error: invalid_message_id: the message id is empty or only whitespace",
        ),
        (
            "--message-id",
            "  ",
            "error: invalid_message_id: the message id is empty or only whitespace",
        ),
        (
            "--correlation-id",
            "",
            "error: invalid_correlation_id: the correlation id is empty or only whitespace",
        ),
    ],
    ids=["long-message-id", "long-correlation-id", "saga-key", "empty", "blank", "empty-corr"],
)
def test_send_refuses_an_id_the_worker_would_refuse_with_exit_2_and_sends_nothing(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    line: str,
) -> None:
    assert run_worker(clean_env, capsys, *DEPOSIT, option, value) == (2, [line])


def test_send_counts_an_ids_bytes_not_its_characters(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # 127 "ü" are 254 bytes: the id is fine, so the command goes on to connect.
    code, err = run_worker(clean_env, capsys, *DEPOSIT, "--message-id", "ü" * 127)

    assert code == 1
    assert err[0].startswith("error: cannot reach RabbitMQ")


@pytest.mark.parametrize(
    "fields",
    [
        ["order_id=o-1", "sku=A-1", "quantity=2"],
        ["--json", '{"order_id": "o-1", "sku": "A-1", "quantity": 2}'],
    ],
    ids=["key=value", "json"],
)
def test_send_types_a_key_value_pair_by_the_commands_schema(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fields: list[str]
) -> None:
    # quantity=2 is the JSON integer the strict schema asks for: valid, so it goes on to connect.
    code, err = run_worker(clean_env, capsys, "send", "AddLineItem", *fields)

    assert code == 1
    assert err[0].startswith("error: cannot reach RabbitMQ")


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        (
            ["order_id=o-1", "sku=A-1", "quantity=two"],
            "error: schema_validation_failed: AddLineItem: quantity: Input should be a valid "
            "integer",
        ),
        (
            ["--json", '{"order_id": "o-1", "sku": "A-1", "quantity": "2"}'],
            "error: schema_validation_failed: AddLineItem: quantity: Input should be a valid "
            "integer",
        ),
    ],
    ids=["not-a-number", "json-string"],
)
def test_send_refuses_a_quantity_that_is_not_an_integer_with_exit_2(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fields: list[str],
    line: str,
) -> None:
    assert run_worker(clean_env, capsys, "send", "AddLineItem", *fields) == (2, [line])


@pytest.mark.parametrize("timeout", ["nan", "inf", "1e309", "-inf", "0", "-1"])
def test_send_refuses_a_timeout_that_is_not_a_finite_positive_number(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], timeout: str
) -> None:
    code, err = run_worker(clean_env, capsys, *DEPOSIT, "--wait", "--timeout", timeout)

    assert code == 2
    assert len(err) == 1
    assert err[0].startswith(
        "error: Invalid value for '--timeout': expected a finite number of seconds more than 0"
    )


@pytest.mark.parametrize("seconds", ["nan", "inf", "1e309", "0.05", "601"])
@pytest.mark.parametrize("command", [["dlq", "retry", "--all"], ["dlq", "edit", "abc"]])
def test_dlq_refuses_a_watch_timeout_outside_its_finite_range(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    seconds: str,
) -> None:
    code, err = run_worker(clean_env, capsys, *command, "--watch-timeout", seconds)

    assert code == 2
    assert len(err) == 1
    assert err[0].startswith(
        "error: Invalid value for '--watch-timeout': expected a finite number of seconds "
        "at least 0.1 and at most 600"
    )


@pytest.mark.parametrize("rate", ["inf", "1e309/s", "nan/s", "0/s"])
def test_dlq_retry_refuses_a_rate_that_is_not_a_finite_positive_number(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], rate: str
) -> None:
    code, err = run_worker(clean_env, capsys, "dlq", "retry", "--all", "--rate", rate)

    assert (code, err) == (
        2,
        [f"error: --rate must be a finite number more than 0/s, not {rate!r}"],
    )


HUGE_ID = "x" * 5000
SHORT_HUGE_ID = f"{'x' * 40!r}… (5000 characters)"
ID_RULE = "it must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["accounts", "show", HUGE_ID], f"error: invalid account id {SHORT_HUGE_ID}: {ID_RULE}"),
        (["accounts", "show", "a/b"], f"error: invalid account id 'a/b': {ID_RULE}"),
        (["sagas", "show", HUGE_ID], f"error: invalid saga id {SHORT_HUGE_ID}: {ID_RULE}"),
        (["sagas", "show", "t 1"], f"error: invalid saga id 't 1': {ID_RULE}"),
        *(
            (
                ["sagas", verb, HUGE_ID, "--reason", "why"],
                f"error: invalid saga id {SHORT_HUGE_ID}: {ID_RULE}",
            )
            for verb in ("retry", "compensate", "resolve")
        ),
    ],
    ids=[
        "account-huge",
        "account-slash",
        "saga-huge",
        "saga-space",
        "retry",
        "compensate",
        "resolve",
    ],
)
def test_an_id_that_cannot_exist_is_refused_up_front_without_echoing_all_of_it(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    line: str,
) -> None:
    assert run_worker(clean_env, capsys, *argv) == (2, [line])


def test_a_valid_account_id_goes_on_to_the_database(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_worker(clean_env, capsys, "accounts", "show", "acc-1.b_2")

    assert code == 1
    assert err[0].startswith("error: the database file /nonexistent/dir/worker.sqlite3 does not")


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (
            ["audit", "list", "--limit", "99999999999999999999"],
            "error: Invalid value for '--limit': Input should be less than or equal to 100000",
        ),
        (
            ["audit", "list", "--limit", "0"],
            "error: Invalid value for '--limit': Input should be greater than or equal to 1",
        ),
        (
            ["audit", "list", "--target", HUGE_ID],
            "error: --target is 5000 characters long; an audit target has at most 255",
        ),
        (
            ["audit", "list", "--action", "x" * 65],
            "error: --action is 65 characters long; an audit action has at most 64",
        ),
    ],
    ids=["limit-overflow", "limit-zero", "target", "action"],
)
def test_audit_list_refuses_filters_the_database_could_not_take(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    start: str,
) -> None:
    code, err = run_worker(clean_env, capsys, *argv)

    assert code == 2
    assert len(err) == 1
    assert err[0].startswith(start)


def test_the_audit_filters_widths_are_the_audit_tables_columns() -> None:
    assert (audit._width("action"), audit._width("target")) == (64, 255)


def test_an_echoed_input_is_cut_after_40_characters_with_its_length() -> None:
    assert shown("acc-1") == "'acc-1'"
    assert shown("y" * 40) == repr("y" * 40)
    assert shown("y" * 41) == f"{'y' * 40!r}… (41 characters)"


@pytest.mark.parametrize("command", [None, ""])
def test_dlq_edit_says_a_letter_names_no_command_instead_of_unknown_command_none(
    command: str | None,
) -> None:
    with pytest.raises(CliError) as raised:
        require_command(command, "3f9a0c1d2e4b")

    assert str(raised.value) == (
        "letter 3f9a0c1d2e4b names no command; purge it or re-send it from its source"
    )
    assert raised.value.exit_code == 2


def test_a_bad_setting_of_a_context_is_one_line_and_exit_2_before_anything_runs(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("CATALOG_RESERVATION_HOLD_SECONDS", "0")

    assert run_worker(clean_env, capsys, *DEPOSIT) == (
        2,
        [
            "error: invalid configuration: CATALOG_RESERVATION_HOLD_SECONDS: "
            "Input should be greater than or equal to 1"
        ],
    )
