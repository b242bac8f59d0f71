"""The product_availability projection on SQLite and PostgreSQL: each product's stock as
its events tell it, the same rows in a fresh generation, and ``products availability``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction
from typer.testing import CliRunner, Result

from domain.catalog import events
from domain.catalog.events import CatalogEvent
from tests.integration.context_storage import KINDS, migrated_database
from tests.integration.readside_support import in_database
from tests.integration.readside_support import project as project_with
from tests.wiring import CONTEXTS
from worker.bus.unit_of_work import MessageContext
from worker.cli.common import CliError
from worker.config import Settings
from worker.contexts.catalog.availability import PRODUCT_AVAILABILITY, availability_of
from worker.contexts.catalog.cli import products_app
from worker.persistence import database
from worker.persistence.outbox import outbox_columns
from worker.readside.declarations import LoggedEvent
from worker.readside.read_model import ReadModel

pytestmark = pytest.mark.integration

START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
LATER = (START + timedelta(hours=1)).isoformat()


class Log:
    """Catalog events as the log holds them, positions given in turn."""

    def __init__(self) -> None:
        self.events: list[LoggedEvent] = []
        self.versions: dict[str, int] = {}

    def add(self, sku: str, kind: type[CatalogEvent], **fields: object) -> None:
        version = self.versions[sku] = self.versions.get(sku, 0) + 1
        position = len(self.events) + 1
        event = kind(
            aggregate_id=sku,
            aggregate_version=version,
            occurred_at=START + timedelta(minutes=position),
            **fields,
        )
        row = outbox_columns(event, MessageContext(f"m-{position}", kind.__name__, "c-1"))
        payload = json.loads(row["payload"])
        self.events.append(
            LoggedEvent(
                position=position,
                event_id=row["event_id"],
                event_type=row["event_type"],
                aggregate_type="catalog",
                aggregate_id=sku,
                aggregate_version=version,
                payload=payload,
                occurred_at=payload["occurred_at"],
                correlation_id="c-1",
                causation_id=f"m-{position}",
            )
        )


def history() -> list[LoggedEvent]:
    """MUG-1: ten, O1 reserves 3 and O2 2, O1 commits, O2 releases, O1 returns 1, six
    more arrive. CUP-2: five, O3 reserves 4, then it is discontinued. BOWL-3: none yet."""
    log = Log()
    add, released = {"price": "8.00", "currency": "EUR"}, {"reason": "released"}

    def reserve(sku: str, order: str, quantity: int, on_hand: int, reserved: int) -> None:
        log.add(
            sku,
            events.StockReserved,
            order_id=order,
            quantity=quantity,
            on_hand=on_hand,
            reserved=reserved,
            expires_at=LATER,
        )

    log.add("MUG-1", events.ProductAdded, product_name="Mug", on_hand=10, **add)
    log.add("CUP-2", events.ProductAdded, product_name="Cup", on_hand=5, **add)
    reserve("MUG-1", "O1", 3, on_hand=10, reserved=3)
    reserve("CUP-2", "O3", 4, on_hand=5, reserved=4)
    reserve("MUG-1", "O2", 2, on_hand=10, reserved=5)
    log.add("MUG-1", events.StockCommitted, order_id="O1", quantity=3, on_hand=7, reserved=2)
    log.add("BOWL-3", events.ProductAdded, product_name="Bowl", on_hand=0, **add)
    log.add("MUG-1", events.StockReleased, order_id="O2", quantity=2, reserved=0, **released)
    log.add("MUG-1", events.StockReturned, order_id="O1", quantity=1, on_hand=8)
    log.add("CUP-2", events.ProductDiscontinued)
    log.add("MUG-1", events.ProductRestocked, quantity=6, on_hand=14)
    return log.events


def shown(sku: str, on_hand: int, reserved: int, status: str, minute: int) -> dict[str, Any]:
    return {
        "sku": sku,
        "on_hand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
        "status": status,
        "changed_at": (START + timedelta(minutes=minute)).isoformat(),
    }


AVAILABILITY = [
    shown("BOWL-3", 0, 0, "active", 7),
    shown("CUP-2", 5, 4, "discontinued", 10),
    shown("MUG-1", 14, 0, "active", 11),
]


async def project(generation: int, events: list[LoggedEvent]) -> ReadModel:
    return await project_with(PRODUCT_AVAILABILITY, generation, events)


@pytest.fixture(params=KINDS)
async def read_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BaseDBAsyncClient]:
    """A database of the test's own: the CLI tests below connect and close tortoise."""
    async with migrated_database(request.param, "availability", CONTEXTS, tmp_path_factory):
        yield connections.get("default")


async def test_availability_follows_reserve_commit_release_return_and_restock(
    read_db: BaseDBAsyncClient,
) -> None:
    logged = history()
    mug = [event for event in logged if event.aggregate_id == "MUG-1"]
    model = await project(1, [])
    seen = []
    for event in mug:
        await PRODUCT_AVAILABILITY.apply(event, model)
        (row,) = await availability_of(model, "MUG-1")
        seen.append((row["on_hand"], row["reserved"], row["available"]))
    assert seen == [
        (10, 0, 10),
        (10, 3, 7),
        (10, 5, 5),
        (7, 2, 5),
        (7, 0, 7),
        (8, 0, 8),
        (14, 0, 14),
    ]


async def test_every_product_shows_its_last_event_ordered_by_sku(
    read_db: BaseDBAsyncClient,
) -> None:
    model = await project(1, history())

    assert await availability_of(model) == AVAILABILITY
    assert await availability_of(model, "CUP-2") == AVAILABILITY[1:2]
    versions = "SELECT sku, version FROM {product_availability} ORDER BY sku"
    assert await model.fetch(versions) == [
        {"sku": "BOWL-3", "version": 1},
        {"sku": "CUP-2", "version": 3},
        {"sku": "MUG-1", "version": 7},
    ]


async def test_a_fresh_generation_fed_the_same_log_holds_byte_identical_rows(
    read_db: BaseDBAsyncClient,
) -> None:
    logged = history()
    live, rebuilt = await project(1, logged), await project(2, logged)
    every_row = "SELECT * FROM {product_availability} ORDER BY sku"

    assert await rebuilt.fetch(every_row) == await live.fetch(every_row)
    assert json.dumps(await availability_of(rebuilt)) == json.dumps(await availability_of(live))


async def test_a_second_product_added_for_one_sku_collides_loudly(
    read_db: BaseDBAsyncClient,
) -> None:
    added = history()[0]
    model = await project(1, [added])
    with pytest.raises(IntegrityError):
        async with in_transaction() as tx:
            await PRODUCT_AVAILABILITY.apply(added, ReadModel(tx, PRODUCT_AVAILABILITY, 1))
    assert await availability_of(model) == [shown("MUG-1", 10, 0, "active", 1)]


# --- ``products availability``, through typer on a migrated SQLite database -----------------

runner = CliRunner()


@pytest.fixture
def availability_url(tmp_path: Path) -> str:
    """A migrated SQLite database with the history in the live generation, 1."""
    url = f"sqlite://{tmp_path / 'availability.sqlite3'}"
    asyncio.run(database.migrate(Settings(database_url=url), CONTEXTS))
    in_database(url, lambda: project(1, history()))
    return url


def availability(url: str, *argv: str) -> Result:
    return runner.invoke(
        products_app, ["availability", *argv], env={"DATABASE_URL": url, "EXTRA_CONTEXTS": ""}
    )


def test_the_json_availability_lists_every_product_by_sku(availability_url: str) -> None:
    printed = availability(availability_url, "--json")

    assert printed.exit_code == 0, printed.output
    assert printed.output == json.dumps(AVAILABILITY, indent=2) + "\n"


def test_the_sku_option_shows_that_product_alone(availability_url: str) -> None:
    assert json.loads(availability(availability_url, "--sku", "MUG-1", "--json").output) == [
        AVAILABILITY[2]
    ]
    assert json.loads(availability(availability_url, "--sku", "NONE-1", "--json").output) == []


def test_the_text_availability_is_a_table_with_a_header(availability_url: str) -> None:
    header, *lines = availability(availability_url).output.splitlines()

    assert header.split()[:3] == ["SKU", "ON", "HAND"]
    assert [line.split()[:5] for line in lines] == [
        ["BOWL-3", "0", "0", "0", "active"],
        ["CUP-2", "5", "4", "1", "discontinued"],
        ["MUG-1", "14", "0", "14", "active"],
    ]
    assert (
        len({line.index(row["changed_at"]) for line, row in zip(lines, AVAILABILITY, strict=True)})
        == 1
    )


def test_a_malformed_sku_is_refused_with_exit_2(availability_url: str) -> None:
    error = availability(availability_url, "--sku", "mug 1").exception
    assert isinstance(error, CliError) and error.exit_code == 2
    assert str(error).startswith("invalid sku 'mug 1'")


def test_a_missing_database_file_says_to_migrate(tmp_path: Path) -> None:
    missing = tmp_path / "availability.sqlite3"
    error = availability(f"sqlite://{missing}").exception
    assert isinstance(error, CliError)
    assert str(error).startswith(f"the database file {missing} does not exist")


def test_a_database_that_is_not_migrated_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    error = availability(f"sqlite://{empty}").exception
    assert isinstance(error, CliError) and "is not migrated" in str(error)


def test_the_help_says_what_reserved_means_here() -> None:
    printed = runner.invoke(products_app, ["availability", "--help"])
    assert printed.exit_code == 0
    assert "--sku" in printed.output and "products show" in printed.output
