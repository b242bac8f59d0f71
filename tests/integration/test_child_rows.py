"""An aggregate stored across two tables (a tab and its lines), on SQLite and PostgreSQL.

The tabs context (tests/contexts/tabs) plugs in by its declaration: its tables come
from its own migrations, its repository from the unit of work.
"""

from __future__ import annotations

import uuid

import pytest

from domain.shared.money import Money
from tests.contexts.tabs.domain import Tab, TabStatus
from tests.contexts.tabs.persistence import TabLineRow
from tests.integration.context_storage import Storage, database_fixture, eur
from worker.bootstrap import contexts

pytestmark = pytest.mark.integration

WITH_TABS = contexts(extra=["tests.contexts.tabs.declaration:CONTEXT"])
storage = Storage(WITH_TABS)
tabs_database = database_fixture("tabs", WITH_TABS)


def lines_of(tab: Tab) -> list[tuple[int, str, int, Money]]:
    return [(line.line_no, line.item, line.quantity, line.unit_price) for line in tab.lines]


async def a_full_tab() -> str:
    tab_id = f"tab-{uuid.uuid4().hex[:8]}"
    async with storage.unit_of_work() as uow:
        tab = Tab.open(tab_id, "guest", "house", "EUR")
        for item, quantity, price in [("beer", 2, "4.50"), ("wine", 1, "7.25"), ("nuts", 3, "1")]:
            tab.add(item, quantity, eur(price))
        uow.repository(Tab).add(tab)
        await storage.commit(uow)
    return tab_id


async def test_a_fully_populated_aggregate_loads_back_with_every_child_row(
    tabs_database: str,
) -> None:
    tab = await storage.stored(Tab, await a_full_tab())

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
    tabs_database: str,
) -> None:
    tab_id = await a_full_tab()
    async with storage.unit_of_work() as uow:
        tab = await uow.repository(Tab).get(tab_id)
        assert tab is not None
        tab.add("beer", 1, eur("4.50"))
        tab.remove("wine")
        await storage.commit(uow)

    stored = await storage.stored(Tab, tab_id)
    assert lines_of(stored) == [(1, "beer", 3, eur("4.50")), (2, "nuts", 3, eur("1"))]
    assert await TabLineRow.filter(tab_id=tab_id).count() == 2  # the removed line left no row
    assert stored.version == 6


async def test_the_version_check_on_the_root_keeps_the_children_of_a_stale_copy_out(
    tabs_database: str,
) -> None:
    tab_id = await a_full_tab()
    await storage.commit_a_stale_copy(Tab, tab_id, "tabs", lambda stale: stale.remove("beer"))

    assert [item for _, item, _, _ in lines_of(await storage.stored(Tab, tab_id))] == [
        "beer",
        "wine",
        "nuts",
    ]


async def test_leaving_without_commit_writes_no_child_row(tabs_database: str) -> None:
    tab_id = await a_full_tab()
    async with storage.unit_of_work() as uow:
        tab = await uow.repository(Tab).get(tab_id)
        assert tab is not None
        tab.add("olives", 2, eur("3.00"))

    assert len((await storage.stored(Tab, tab_id)).lines) == 3
