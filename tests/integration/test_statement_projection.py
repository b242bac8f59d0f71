"""The account_statement projection on SQLite and PostgreSQL: an account's movements as its
events tell them, the same rows again in a fresh generation, and ``accounts statement``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction
from typer.testing import CliRunner, Result

from domain.accounts.events import AccountEvent, MoneyDeposited, MoneyWithdrawn
from tests.integration.context_storage import KINDS, migrated_database
from tests.integration.readside_support import in_database
from tests.integration.readside_support import project as project_with
from tests.wiring import CONTEXTS
from worker.bus.unit_of_work import MessageContext
from worker.cli.common import CliError
from worker.config import Settings
from worker.contexts.accounts.cli import accounts_app
from worker.contexts.accounts.persistence import AccountRow
from worker.contexts.accounts.statement import ACCOUNT_STATEMENT, statement_of
from worker.persistence import database
from worker.persistence.outbox import outbox_columns
from worker.persistence.read_side import HandlerStateRow
from worker.readside.declarations import LoggedEvent
from worker.readside.read_model import ReadModel

pytestmark = pytest.mark.integration

START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def movement(
    position: int, version: int, kind: type[AccountEvent], amount: str, balance: str, cause: str
) -> LoggedEvent:
    """The log's row of a movement of acc-1 (or of acc-2 for positions over 900)."""
    account = "acc-2" if position > 900 else "acc-1"
    event = kind(
        aggregate_id=account,
        aggregate_version=version,
        occurred_at=START + timedelta(minutes=position),
        amount=amount,
        currency="EUR",
        balance=balance,
    )
    row = outbox_columns(event, MessageContext(cause, kind.__name__, "corr-1"))
    payload = json.loads(row["payload"])
    return LoggedEvent(
        position=position,
        event_id=row["event_id"],
        event_type=row["event_type"],
        aggregate_type=row["aggregate_type"],
        aggregate_id=account,
        aggregate_version=version,
        payload=payload,
        occurred_at=payload["occurred_at"],
        correlation_id="corr-1",
        causation_id=cause,
    )


#: acc-1 (opened at version 1, which is no movement): a client's deposit and withdrawal,
#: a transfer out, one in, an order charged and refunded, a transfer refunded; acc-2's
#: movements interleaved in the log.
HISTORY = [
    movement(3, 2, MoneyDeposited, "100.00", "100.00", "m-1"),
    movement(901, 2, MoneyDeposited, "9.99", "9.99", "m-9"),
    movement(5, 3, MoneyWithdrawn, "12.50", "87.50", "m-2"),
    movement(8, 4, MoneyWithdrawn, "30.00", "57.50", "transfer-T1/withdraw/1"),
    movement(902, 3, MoneyWithdrawn, "0.99", "9.00", "order-O9/charge/1"),
    movement(13, 5, MoneyDeposited, "5.00", "62.50", "transfer-T2/deposit/1"),
    movement(21, 6, MoneyWithdrawn, "20.00", "42.50", "order-O1/charge/1"),
    movement(34, 7, MoneyDeposited, "20.00", "62.50", "order-O1/refund_charge/1"),
    movement(55, 8, MoneyWithdrawn, "10.00", "52.50", "transfer-T3/withdraw/2"),
    movement(89, 9, MoneyDeposited, "10.00", "62.50", "transfer-T3/refund/1"),
]


def entry(position: int, kind: str, amount: str, balance: str, cause: str) -> dict[str, Any]:
    at = (START + timedelta(minutes=position)).isoformat()
    return {
        "position": position,
        "at": at,
        "kind": kind,
        "amount": amount,
        "balance": balance,
        "cause": cause,
    }


STATEMENT = [
    entry(3, "deposit", "100.00", "100.00", "m-1"),
    entry(5, "withdrawal", "-12.50", "87.50", "m-2"),
    entry(8, "transfer.withdraw", "-30.00", "57.50", "transfer-T1/withdraw/1"),
    entry(13, "transfer.deposit", "5.00", "62.50", "transfer-T2/deposit/1"),
    entry(21, "order.charge", "-20.00", "42.50", "order-O1/charge/1"),
    entry(34, "order.refund_charge", "20.00", "62.50", "order-O1/refund_charge/1"),
    entry(55, "transfer.withdraw", "-10.00", "52.50", "transfer-T3/withdraw/2"),
    entry(89, "transfer.refund", "10.00", "62.50", "transfer-T3/refund/1"),
]


async def project(generation: int, events: list[LoggedEvent]) -> ReadModel:
    return await project_with(ACCOUNT_STATEMENT, generation, events)


@pytest.fixture(params=KINDS)
async def read_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BaseDBAsyncClient]:
    """A database of the test's own: the CLI tests below connect and close tortoise."""
    async with migrated_database(request.param, "statement", CONTEXTS, tmp_path_factory):
        yield connections.get("default")


async def test_a_statement_has_every_movement_signed_with_its_balance_kind_and_cause(
    read_db: BaseDBAsyncClient,
) -> None:
    model = await project(1, HISTORY)

    assert await statement_of(model, "acc-1") == STATEMENT
    assert [e["kind"] for e in await statement_of(model, "acc-2")] == ["deposit", "order.charge"]
    assert await statement_of(model, "acc-nobody") == []


async def test_the_running_balance_is_the_sum_of_the_signed_amounts(
    read_db: BaseDBAsyncClient,
) -> None:
    entries = await statement_of(await project(1, HISTORY), "acc-1")
    running = Decimal(0)
    for movement_entry in entries:
        running += Decimal(movement_entry["amount"])
        assert Decimal(movement_entry["balance"]) == running


async def test_a_fresh_generation_fed_the_same_log_holds_byte_identical_rows(
    read_db: BaseDBAsyncClient,
) -> None:
    live, rebuilt = await project(1, HISTORY), await project(2, HISTORY)
    every_row = "SELECT * FROM {account_statement} ORDER BY account_id, version"

    assert rebuilt.table("account_statement") != live.table("account_statement")
    assert await rebuilt.fetch(every_row) == await live.fetch(every_row)
    for account in ("acc-1", "acc-2"):
        assert json.dumps(await statement_of(rebuilt, account)) == json.dumps(
            await statement_of(live, account)
        )


async def test_applying_one_event_twice_collides_loudly(read_db: BaseDBAsyncClient) -> None:
    model = await project(1, HISTORY[:1])
    with pytest.raises(IntegrityError):
        async with in_transaction() as tx:
            await ACCOUNT_STATEMENT.apply(HISTORY[0], ReadModel(tx, ACCOUNT_STATEMENT, 1))
    assert len(await statement_of(model, "acc-1")) == 1


# --- ``accounts statement``, through typer on a migrated SQLite database ---------------------

runner = CliRunner()


@pytest.fixture
def statement_url(tmp_path: Path) -> str:
    """A migrated SQLite database: acc-1 with its history in generations 1 and 2 (the
    live one is 1), acc-3 with no movement."""
    url = f"sqlite://{tmp_path / 'statement.sqlite3'}"
    asyncio.run(database.migrate(Settings(database_url=url), CONTEXTS))

    async def fill() -> None:
        for account in ("acc-1", "acc-2", "acc-3"):
            await AccountRow.create(
                id=account, owner="Ada", currency="EUR", balance="0", status="open", version=1
            )
        await project(1, HISTORY)
        await project(2, HISTORY)

    in_database(url, fill)
    return url


def statement(url: str, *argv: str) -> Result:
    return runner.invoke(
        accounts_app, ["statement", *argv], env={"DATABASE_URL": url, "EXTRA_CONTEXTS": ""}
    )


def test_the_json_statement_is_the_accounts_entries_in_version_order(statement_url: str) -> None:
    printed = statement(statement_url, "acc-1", "--json")

    assert printed.exit_code == 0, printed.output
    expected = {"account_id": "acc-1", "entries": STATEMENT}
    assert printed.output == json.dumps(expected, indent=2) + "\n"


def test_an_account_without_movements_has_an_empty_statement(statement_url: str) -> None:
    assert json.loads(statement(statement_url, "acc-3", "--json").output) == {
        "account_id": "acc-3",
        "entries": [],
    }


def test_the_statement_reads_the_live_generation_and_prints_the_same_after_a_rebuild(
    statement_url: str,
) -> None:
    before = statement(statement_url, "acc-1", "--json").output

    async def swap_in_generation_2() -> None:
        await HandlerStateRow.update_or_create(
            name="account_statement", defaults={"kind": "projection", "generation": 2}
        )
        await ReadModel(connections.get("default"), ACCOUNT_STATEMENT, 1).drop_tables()

    in_database(statement_url, swap_in_generation_2)
    assert statement(statement_url, "acc-1", "--json").output == before


def test_the_text_statement_is_one_aligned_line_per_movement(statement_url: str) -> None:
    lines = statement(statement_url, "acc-1").output.splitlines()

    assert len(lines) == len(STATEMENT)
    assert lines[0].split() == [
        "#3",
        STATEMENT[0]["at"],
        "deposit",
        "100.00",
        "100.00",
        "EUR",
        "m-1",
    ]
    assert lines[2].split()[2:4] == ["transfer.withdraw", "-30.00"]
    assert len({line.index(" EUR ") for line in lines}) == 1


def failure(printed: Result) -> CliError:
    assert isinstance(printed.exception, CliError), printed.output
    return printed.exception


def test_an_id_that_is_no_account_is_one_line_and_exit_1(statement_url: str) -> None:
    error = failure(statement(statement_url, "nobody"))
    assert (str(error), error.exit_code) == ("no account 'nobody'", 1)


def test_a_missing_database_file_says_to_migrate(tmp_path: Path) -> None:
    missing = tmp_path / "none" / "statement.sqlite3"
    error = failure(statement(f"sqlite://{missing}", "acc-1"))
    assert str(error).startswith(f"the database file {missing} does not exist")
    assert not missing.parent.exists()


def test_a_database_that_is_not_migrated_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    assert "is not migrated" in str(failure(statement(f"sqlite://{empty}", "acc-1")))


def test_a_statement_whose_tables_are_gone_says_to_migrate(statement_url: str) -> None:
    async def drop_the_live_generation() -> None:
        await ReadModel(connections.get("default"), ACCOUNT_STATEMENT, 1).drop_tables()

    in_database(statement_url, drop_the_live_generation)
    assert "is not migrated" in str(failure(statement(statement_url, "acc-1")))


def test_the_help_names_the_kinds_of_movement() -> None:
    printed = runner.invoke(accounts_app, ["statement", "--help"])
    assert printed.exit_code == 0
    assert "transfer.withdraw" in printed.output and "--json" in printed.output
