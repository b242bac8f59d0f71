"""A user's mistake costs one line ``error: ...`` on stderr and a non-zero exit, never a traceback.

``python -m worker`` runs as a subprocess against the real RabbitMQ and PostgreSQL:
bad URLs, servers that are not there, a database that does not exist or was never
migrated, a reply that never comes, a broker that refuses the message, bad options.
No worker runs here: the module's private vhost has the worker's topology and no
consumer, so a command sent to it waits for an answer in vain.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import pytest

from tests.e2e.harness import run_cli
from tests.services import (
    AMQP_BASE_URL,
    create_database,
    drop_database,
    pg_url,
    private_vhost,
    rabbit_url,
)
from tests.wiring import COMMANDS
from worker.messaging.topology import COMMANDS_EXCHANGE, declare_all

pytestmark = pytest.mark.e2e

MIGRATE_HINT = "run `python -m worker db migrate`"
DEPOSIT = ("send", "Deposit", "account_id=acc-1", "amount=1.00", "currency=EUR")
UNREACHABLE_PG = "postgres://postgres@127.0.0.1:1/x"


def assert_one_error_line(
    result: subprocess.CompletedProcess[str], exit_code: int, *fragments: str
) -> str:
    """Exit code as expected, exactly one stderr line "error: ...", no traceback."""
    assert result.returncode == exit_code, result.stderr
    assert "Traceback" not in result.stderr
    assert "Fatal Python error" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def base_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Sane settings (so only the one under test is wrong), INFO logging."""
    return {
        "LOG_LEVEL": "INFO",
        "AMQP_URL": AMQP_BASE_URL,
        "DATABASE_URL": f"sqlite://{tmp_path_factory.mktemp('cli-errors')}/unused.sqlite3",
        "TEMPORAL_ADDRESS": "127.0.0.1:1",
    }


async def _declare_topology(url: str) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        await declare_all(await connection.channel(), COMMANDS)


async def _declare_full_queue(url: str) -> None:
    """Deposit routes to a queue that holds nothing and refuses publishes: a nack."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            COMMANDS_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
        )
        queue = await channel.declare_queue(
            "full", durable=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
        )
        await queue.bind(exchange, routing_key="Deposit")


@pytest.fixture(scope="module")
def unanswered_amqp_url() -> Iterator[str]:
    """A vhost with the worker's topology and no worker: nobody ever replies."""
    with private_vhost(f"cli-errors-quiet-{uuid.uuid4().hex[:8]}") as url:
        asyncio.run(_declare_topology(url))
        yield url


@pytest.fixture(scope="module")
def refusing_amqp_url() -> Iterator[str]:
    with private_vhost(f"cli-errors-full-{uuid.uuid4().hex[:8]}") as url:
        asyncio.run(_declare_full_queue(url))
        yield url


@pytest.fixture(scope="module")
def unmigrated_database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database."""
    name = f"cli_err_{uuid.uuid4().hex[:8]}"
    create_database(name)
    yield pg_url(name)
    drop_database(name)


# --- configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [("accounts", "list"), ("accounts", "show", "acc-1"), ("db", "migrate")],
    ids=["accounts-list", "accounts-show", "db-migrate"],
)
@pytest.mark.parametrize("url", ["garbage", "http://db/x", "postgres://db:99999/x"])
def test_a_bad_database_url_is_a_configuration_error(
    base_env: dict[str, str], command: tuple[str, ...], url: str
) -> None:
    result = run_cli({**base_env, "DATABASE_URL": url}, *command)

    assert_one_error_line(result, 2, "invalid configuration: DATABASE_URL")


@pytest.mark.parametrize("url", ["garbage", "http://rabbit/", "amqp://rabbit:0/", "amqp://[::1/"])
def test_a_bad_amqp_url_is_a_configuration_error(base_env: dict[str, str], url: str) -> None:
    result = run_cli({**base_env, "AMQP_URL": url}, *DEPOSIT)

    assert_one_error_line(result, 2, "invalid configuration: AMQP_URL")


def test_a_configuration_error_never_shows_the_password(base_env: dict[str, str]) -> None:
    result = run_cli({**base_env, "AMQP_URL": "amqp://u:top/secret@rabbit:5672/"}, *DEPOSIT)

    line = assert_one_error_line(result, 2, "AMQP_URL")
    assert "top" not in line and "secret" not in line


# --- the database -------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [("accounts", "list"), ("accounts", "show", "acc-1"), ("db", "migrate")],
    ids=["accounts-list", "accounts-show", "db-migrate"],
)
def test_an_unknown_postgres_database_is_named(
    base_env: dict[str, str], command: tuple[str, ...]
) -> None:
    url = pg_url(f"nope_missing_{uuid.uuid4().hex[:6]}")

    result = run_cli({**base_env, "DATABASE_URL": url}, *command)

    assert_one_error_line(result, 1, "does not exist", url.rsplit("/", 1)[1])


@pytest.mark.parametrize(
    "command",
    [("accounts", "list"), ("accounts", "show", "acc-1"), ("db", "migrate")],
    ids=["accounts-list", "accounts-show", "db-migrate"],
)
def test_an_unreachable_database_is_named(
    base_env: dict[str, str], command: tuple[str, ...]
) -> None:
    result = run_cli({**base_env, "DATABASE_URL": UNREACHABLE_PG}, *command)

    assert_one_error_line(result, 1, f"cannot reach the database at {UNREACHABLE_PG}")


@pytest.mark.parametrize(
    "command", [("accounts", "list"), ("accounts", "show", "acc-1")], ids=["list", "show"]
)
def test_an_unmigrated_database_says_to_migrate(
    base_env: dict[str, str], unmigrated_database_url: str, command: tuple[str, ...]
) -> None:
    result = run_cli({**base_env, "DATABASE_URL": unmigrated_database_url}, *command)

    assert_one_error_line(result, 1, "is not migrated", MIGRATE_HINT)


@pytest.mark.parametrize(
    "command", [("accounts", "list"), ("accounts", "show", "acc-1")], ids=["list", "show"]
)
def test_reading_a_missing_sqlite_file_creates_nothing(
    base_env: dict[str, str], tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "nonexistent" / "dir" / "x.db"

    result = run_cli({**base_env, "DATABASE_URL": f"sqlite://{missing}"}, *command)

    assert_one_error_line(result, 1, f"the database file {missing} does not exist", MIGRATE_HINT)
    assert not (tmp_path / "nonexistent").exists()


def test_an_unmigrated_sqlite_file_says_to_migrate(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.touch()

    result = run_cli({**base_env, "DATABASE_URL": f"sqlite://{empty}"}, "accounts", "list")

    assert_one_error_line(result, 1, "is not migrated", MIGRATE_HINT)


def test_migrating_then_reading_a_sqlite_file_works(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**base_env, "DATABASE_URL": f"sqlite://{tmp_path}/new/worker.sqlite3"}

    migrated = run_cli(env, "db", "migrate")
    listed = run_cli(env, "accounts", "list", "--json")
    shown = run_cli(env, "accounts", "show", "nobody")

    assert migrated.returncode == 0, migrated.stderr
    assert (listed.returncode, listed.stdout.strip(), listed.stderr) == (0, "[]", "")
    assert_one_error_line(shown, 1, "no account 'nobody'")


def test_a_database_migrated_by_the_previous_release_is_refused_until_migrated_again(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "old.sqlite3"
    env = {**base_env, "DATABASE_URL": f"sqlite://{path}"}
    assert run_cli(env, "db", "migrate").returncode == 0
    with sqlite3.connect(path) as old:  # as the release before the retry seal left it
        old.execute("DROP TABLE worker_secret")
        old.execute("DELETE FROM tortoise_migrations WHERE name = '0005_worker_secret'")

    refused = run_cli(env, "run", "--role", "commands", timeout=30)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    last = refused.stderr.splitlines()[-1]
    assert last.startswith("error: ") and "is not migrated" in last and MIGRATE_HINT in last
    assert run_cli(env, "db", "migrate").returncode == 0
    with sqlite3.connect(path) as new:
        assert new.execute("SELECT count(*) FROM worker_secret").fetchone() == (0,)


def test_log_level_debug_adds_the_traceback(base_env: dict[str, str]) -> None:
    env = {**base_env, "LOG_LEVEL": "DEBUG", "DATABASE_URL": UNREACHABLE_PG}

    result = run_cli(env, "accounts", "list")

    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: cannot reach the database")


# --- RabbitMQ -----------------------------------------------------------------------


def test_an_unreachable_broker_is_one_line_without_aiormqs_own(base_env: dict[str, str]) -> None:
    url = "amqp://guest:secret@127.0.0.1:1/"

    result = run_cli({**base_env, "AMQP_URL": url}, *DEPOSIT)

    line = assert_one_error_line(
        result, 1, "cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:1/"
    )
    assert "secret" not in line
    assert "error when creating transport" not in result.stderr


def test_an_unknown_vhost_is_one_line(base_env: dict[str, str]) -> None:
    url = rabbit_url(f"no-such-vhost-{uuid.uuid4().hex[:6]}")

    result = run_cli({**base_env, "AMQP_URL": url}, *DEPOSIT)

    assert_one_error_line(result, 1, "vhost")


def test_a_wait_that_times_out_says_so_and_exits_3(
    base_env: dict[str, str], unanswered_amqp_url: str
) -> None:
    env = {**base_env, "AMQP_URL": unanswered_amqp_url}
    started = time.monotonic()

    result = run_cli(env, *DEPOSIT, "--message-id", "m-timeout", "--wait", "--timeout", "1")

    assert_one_error_line(result, 3, "no outcome for m-timeout within 1s")
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("timeout", ["0", "-1"])
def test_a_timeout_that_is_not_positive_is_refused(
    base_env: dict[str, str], unanswered_amqp_url: str, timeout: str
) -> None:
    env = {**base_env, "AMQP_URL": unanswered_amqp_url}

    result = run_cli(env, *DEPOSIT, "--wait", "--timeout", timeout)

    assert_one_error_line(result, 2, "--timeout")


@pytest.mark.parametrize(
    ("message_id", "fragment"),
    [
        ("é" * 200, "invalid_message_id: the message id is 400 bytes long; at most 255"),
        ("transfer-t-1/withdraw/1", "reserved_message_id: message ids of the form transfer-"),
    ],
    ids=["400-bytes-in-200-characters", "a-saga-step-key"],
)
def test_a_message_id_the_worker_would_refuse_is_refused_before_sending(
    base_env: dict[str, str], unanswered_amqp_url: str, message_id: str, fragment: str
) -> None:
    result = run_cli(
        {**base_env, "AMQP_URL": unanswered_amqp_url}, *DEPOSIT, "--message-id", message_id
    )

    assert_one_error_line(result, 2, fragment)
    assert result.stdout == ""


def test_a_nack_says_the_broker_refused_the_message(
    base_env: dict[str, str], refusing_amqp_url: str
) -> None:
    env = {**base_env, "AMQP_URL": refusing_amqp_url}

    result = run_cli(env, *DEPOSIT, "--message-id", "m-nacked")

    assert_one_error_line(result, 1, "the broker refused the message m-nacked")


def test_an_unroutable_command_says_so(base_env: dict[str, str]) -> None:
    """A vhost without the worker's topology: the commands exchange is missing."""
    with private_vhost(f"cli-errors-empty-{uuid.uuid4().hex[:8]}") as url:
        result = run_cli({**base_env, "AMQP_URL": url}, *DEPOSIT)

        assert_one_error_line(result, 1, "has the worker started once?")


# --- options and Temporal -----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("send", "Deposit", "--nope"), "No such option: --nope"),
        (("accounts", "show"), "Missing argument"),
        (("no-such-command",), "No such command"),
        (("send", "Deposit", "--timeout", "soon"), "--timeout"),
    ],
)
def test_a_bad_option_is_one_line_with_exit_2(
    base_env: dict[str, str], args: tuple[str, ...], fragment: str
) -> None:
    result = run_cli(base_env, *args)

    assert_one_error_line(result, 2, fragment, "--help")


def test_an_unreachable_temporal_is_one_line_and_a_clean_exit(base_env: dict[str, str]) -> None:
    for _ in range(3):  # the SDK's abort at interpreter exit was intermittent
        result = run_cli(base_env, "sagas", "list")

        assert_one_error_line(result, 1, "cannot reach Temporal at 127.0.0.1:1")


def test_a_command_that_succeeds_prints_no_error(base_env: dict[str, str]) -> None:
    result = run_cli(base_env, "commands")

    assert (result.returncode, result.stderr) == (0, "")
    assert "Deposit" in result.stdout


def test_the_worker_refuses_to_start_on_an_unmigrated_database(
    base_env: dict[str, str], unmigrated_database_url: str
) -> None:
    result = run_cli({**base_env, "DATABASE_URL": unmigrated_database_url}, "run")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: ")
    assert MIGRATE_HINT in result.stderr.splitlines()[-1]
