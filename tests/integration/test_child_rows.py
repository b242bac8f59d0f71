"""An aggregate stored across two tables (a tab and its lines), on SQLite and PostgreSQL.

The tabs context (tests/contexts/tabs) plugs in by its declaration: its tables come
from its own migrations, its repository from the unit of work.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from domain.shared.errors import ConcurrencyConflict
from domain.shared.money import Money
from tests.contexts.tabs.domain import Tab, TabStatus
from tests.contexts.tabs.persistence import TabLineRow
from tests.services import create_database, drop_database, pg_url
from worker.bootstrap import contexts
from worker.bus.outcomes import Outcome
from worker.bus.unit_of_work import MessageContext, UnitOfWork
from worker.config import Settings
from worker.persistence import database, sql
from worker.persistence.unit_of_work import TortoiseUnitOfWorkFactory

pytestmark = pytest.mark.integration

WITH_TABS = contexts(extra=["tests.contexts.tabs.declaration:CONTEXT"])
uow_factory = TortoiseUnitOfWorkFactory(WITH_TABS.aggregates, WITH_TABS.read_ports)


@pytest.fixture(params=["sqlite", "postgres"], scope="module")
async def tabs_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[None]:
    name = f"worker_tabs_{uuid.uuid4().hex[:8]}"
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('tabs') / 'tabs.sqlite3'}"
    else:
        await asyncio.to_thread(create_database, name)
        url = pg_url(name)
    settings = Settings(database_url=url)
    await database.migrate(settings, WITH_TABS)
    await database.connect(settings, WITH_TABS)
    try:
        yield
    finally:
        await database.close()
        EXECUTOR_CACHE.clear()
        if request.param == "postgres":
            await asyncio.to_thread(drop_database, name)


def unit_of_work() -> UnitOfWork:
    return uow_factory(MessageContext(f"msg-{uuid.uuid4().hex}", "test"))


async def commit(uow: UnitOfWork) -> None:
    await uow.commit(Outcome.accepted(uow.context.message_id))


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


async def stored_tab(tab_id: str) -> Tab:
    async with unit_of_work() as uow:
        tab = await uow.repository(Tab).get(tab_id)
    assert tab is not None
    return tab


def lines_of(tab: Tab) -> list[tuple[int, str, int, Money]]:
    return [(line.line_no, line.item, line.quantity, line.unit_price) for line in tab.lines]


async def a_full_tab() -> str:
    tab_id = f"tab-{uuid.uuid4().hex[:8]}"
    async with unit_of_work() as uow:
        tab = Tab.open(tab_id, "guest", "house", "EUR")
        for item, quantity, price in [("beer", 2, "4.50"), ("wine", 1, "7.25"), ("nuts", 3, "1")]:
            tab.add(item, quantity, eur(price))
        uow.repository(Tab).add(tab)
        await commit(uow)
    return tab_id


async def test_a_fully_populated_aggregate_loads_back_with_every_child_row(
    tabs_database: None,
) -> None:
    tab = await stored_tab(await a_full_tab())

    assert lines_of(tab) == [
        (1, "beer", 2, eur("4.50")),
        (2, "wine", 1, eur("7.25")),
        (3, "nuts", 3, eur("1")),
    ]
    assert (tab.account_id, tab.house_account_id, tab.status, tab.version) == (
        "guest",
        "house",
        TabStatus.OPEN,
        4,
    )
    assert tab.total == eur("19.25")


async def test_changed_and_removed_children_are_written_with_the_root_in_one_transaction(
    tabs_database: None,
) -> None:
    tab_id = await a_full_tab()
    async with unit_of_work() as uow:
        tab = await uow.repository(Tab).get(tab_id)
        assert tab is not None
        tab.add("beer", 1, eur("4.50"))
        tab.remove("wine")
        await commit(uow)

    stored = await stored_tab(tab_id)
    assert lines_of(stored) == [(1, "beer", 3, eur("4.50")), (2, "nuts", 3, eur("1"))]
    assert await TabLineRow.filter(tab_id=tab_id).count() == 2  # the removed line left no row
    assert stored.version == 6


async def test_the_version_check_on_the_root_keeps_the_children_of_a_stale_copy_out(
    tabs_database: None,
) -> None:
    tab_id = await a_full_tab()
    async with unit_of_work() as uow:
        stale = await uow.repository(Tab).get(tab_id)
        assert stale is not None
        db = uow._db  # type: ignore[attr-defined]
        # Someone else's change, committed since this copy was read.
        await db.execute_query(
            sql.dialect_sql(db, "UPDATE tabs SET version = version + 1 WHERE id = ?"), [tab_id]
        )
        stale.remove("beer")
        with pytest.raises(ConcurrencyConflict):
            await commit(uow)

    assert [item for _, item, _, _ in lines_of(await stored_tab(tab_id))] == [
        "beer",
        "wine",
        "nuts",
    ]


async def test_leaving_without_commit_writes_no_child_row(tabs_database: None) -> None:
    tab_id = await a_full_tab()
    async with unit_of_work() as uow:
        tab = await uow.repository(Tab).get(tab_id)
        assert tab is not None
        tab.add("olives", 2, eur("3.00"))

    assert len((await stored_tab(tab_id)).lines) == 3
