"""The event log on SQLite and PostgreSQL: the relay gives committed events gap-free
positions, in outbox order, once each, even when a transaction commits late or two
relays run at once, and the published event says its position."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractQueue
from tortoise.transactions import in_transaction

from domain.accounts.account import Account
from domain.shared.money import Money
from tests.integration.context_storage import database_fixture
from tests.integration.readside_support import (
    commit_outbox,
    log_everything,
    log_positions,
    outbox_row,
    relay,
    tally_kind,
)
from tests.wiring import CONTEXTS, tortoise_uow_factory
from worker.bus.outcomes import Outcome
from worker.bus.unit_of_work import MessageContext
from worker.messaging import topology
from worker.persistence import sql
from worker.persistence.models import OutboxRow
from worker.persistence.read_side import EventLogRow

pytestmark = pytest.mark.integration

eventlog_database = database_fixture("eventlog", CONTEXTS)


@pytest.fixture
async def db(eventlog_database: str) -> str:
    """The module's database, every event committed so far logged."""
    await log_everything()
    return eventlog_database


def postgres_only(url: str) -> None:
    if url.startswith("sqlite"):
        pytest.skip("one SQLite file has one writer: no two transactions overlap")


async def open_and_deposit(account_id: str, deposits: int) -> None:
    """Commit an account's opening and its deposits through the real unit of work."""
    ctx = MessageContext(f"open-{account_id}", "OpenAccount", "corr-log")
    async with tortoise_uow_factory(ctx) as uow:
        uow.repository(Account).add(Account.open(account_id, "Log Test", "EUR"))
        await uow.commit(Outcome.accepted(ctx.message_id))
    for number in range(deposits):
        ctx = MessageContext(f"dep-{account_id}-{number}", "Deposit", "corr-log")
        async with tortoise_uow_factory(ctx) as uow:
            account = await uow.repository(Account).get(account_id)
            assert account is not None
            account.deposit(Money.of("1.00", "EUR"))
            await uow.commit(Outcome.accepted(ctx.message_id))


async def test_committed_events_get_the_next_positions_in_outbox_order_without_a_gap(
    db: str,
) -> None:
    head = len(await log_positions())
    await open_and_deposit(f"log-{uuid.uuid4().hex[:8]}", 3)
    await commit_outbox([outbox_row(tally_kind().tallied, "t-1", 1) for _ in range(3)])

    assert await relay().log_pending() == 7

    assert await log_positions() == list(range(1, head + 8))
    new = await OutboxRow.filter(position__gt=head).order_by("id")
    assert [row.position for row in new] == list(range(head + 1, head + 8))
    logged = await EventLogRow.filter(position__gt=head).order_by("position")
    assert [e.event_id for e in logged] == [row.event_id for row in new]
    assert [e.aggregate_version for e in logged[:4]] == [1, 2, 3, 4]


async def test_logging_again_logs_nothing_new(db: str) -> None:
    await commit_outbox([outbox_row(tally_kind().tallied, "t-1", 1)])
    assert await relay().log_pending() == 1
    positions = await log_positions()

    assert await relay().log_pending() == 0
    assert await log_positions() == positions


async def test_an_event_that_commits_late_gets_the_next_position_and_no_gap_opens(
    db: str,
) -> None:
    postgres_only(db)
    kind = tally_kind()
    late, early = outbox_row(kind.tallied, "late", 1), outbox_row(kind.tallied, "early", 1)
    inserted, release = asyncio.Event(), asyncio.Event()

    async def commit_late() -> None:
        async with in_transaction() as transaction:
            await sql.insert(transaction, OutboxRow, [late])
            inserted.set()
            await release.wait()

    holder = asyncio.create_task(commit_late())
    await inserted.wait()
    await commit_outbox([early])
    early_row = await OutboxRow.get(event_id=early["event_id"])
    assert await relay().log_pending() == 1
    head = len(await log_positions())
    release.set()
    await holder

    assert await relay().log_pending() == 1
    late_logged = await OutboxRow.get(event_id=late["event_id"])
    assert late_logged.id < early_row.id, "the late one took the lower id"
    assert late_logged.position == head + 1
    assert await log_positions() == list(range(1, head + 2))


async def test_two_relays_at_once_never_give_a_position_twice_nor_skip_one(db: str) -> None:
    postgres_only(db)
    kind = tally_kind()
    first, second = relay(), relay()
    for round_ in range(30):
        rows = [outbox_row(kind.tallied, f"t-{round_}-{n}", 1) for n in range(3)]
        await asyncio.gather(
            commit_outbox(rows[:2]),
            first.log_pending(),
            commit_outbox(rows[2:]),
            second.log_pending(),
        )
    await log_everything()

    positions = await log_positions()
    assert positions == list(range(1, len(positions) + 1))
    outbox = await OutboxRow.filter(aggregate_type=kind.aggregate_type).values_list(
        "event_id", "position"
    )
    logged = dict(await EventLogRow.all().values_list("event_id", "position"))
    assert len(outbox) == 90
    assert all(logged[event_id] == position for event_id, position in outbox)


@pytest.fixture
async def events_queue(vhost_url: str) -> AsyncIterator[tuple[AbstractChannel, AbstractQueue]]:
    connection = await aio_pika.connect(vhost_url)
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    await topology.declare_events(channel)
    queue = await channel.declare_queue(exclusive=True)
    yield channel, queue
    await connection.close()


async def test_a_published_event_carries_its_position(
    db: str, events_queue: tuple[AbstractChannel, AbstractQueue]
) -> None:
    channel, queue = events_queue
    kind = tally_kind()
    await queue.bind(topology.EVENTS_EXCHANGE, routing_key=kind.tallied)
    await commit_outbox([outbox_row(kind.tallied, "t-1", version) for version in (1, 2)])

    while await relay().publish_pending(channel):
        pass

    got: list[tuple[str | None, object]] = []
    async with asyncio.timeout(10):
        while len(got) < 2:
            message = await queue.get(fail=False, no_ack=True)
            if message is None:
                await asyncio.sleep(0.05)
            else:
                got.append((message.message_id, message.headers["event-position"]))
    expected = await OutboxRow.filter(aggregate_type=kind.aggregate_type).order_by("id")
    assert got == [(row.event_id, row.position) for row in expected]
    assert all(row.sent_at is not None for row in expected)
