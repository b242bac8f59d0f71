"""Retention on SQLite and PostgreSQL: old inbox rows and sent outbox rows go, the rest stays.

Every sweep here runs "as of" a moment in 2001, and the rows it should delete are
dated before it: rows other tests wrote (dated today) are in that sweep's future,
so they are never touched and the counts are exact on the shared test database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.integration.conftest import Backend
from tests.wiring import CONTEXTS
from tests.wiring import HANDLERS as COMMAND_HANDLERS
from worker.bus.messagebus import MessageBus
from worker.bus.outcomes import Status
from worker.bus.unit_of_work import MessageContext
from worker.contexts.accounts.commands import Deposit, OpenAccount
from worker.contexts.accounts.persistence import AccountRow
from worker.contexts.transfers.persistence import TransferRow
from worker.persistence.models import InboxRow, OutboxRow
from worker.persistence.retention import RetentionSweeper, SweptTable
from worker.sagas.retention import kept_steps

pytestmark = [
    pytest.mark.integration,
    # The contract's backend fixture, on the real databases only (retention is SQL).
    pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True, scope="module"),
]

NOW = datetime(2001, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def sweeper(batch_size: int = 5000) -> RetentionSweeper:
    return RetentionSweeper(
        inbox_retention=timedelta(days=7),
        outbox_retention=timedelta(hours=24),
        interval=300,
        batch_size=batch_size,
        kept_steps=kept_steps(CONTEXTS.sagas),
    )


class CountingSweeper(RetentionSweeper):
    """Remembers how many rows each DELETE statement removed, per table."""

    def __init__(self, batch_size: int) -> None:
        super().__init__(
            inbox_retention=timedelta(days=7),
            outbox_retention=timedelta(hours=24),
            interval=300,
            batch_size=batch_size,
            kept_steps=kept_steps(CONTEXTS.sagas),
        )
        self.statements: list[tuple[str, int]] = []

    async def delete_batch(self, target: SweptTable, cutoff: datetime) -> int:
        deleted = await super().delete_batch(target, cutoff)
        self.statements.append((target.table, deleted))
        return deleted


@pytest.fixture
async def tag(backend: Backend) -> AsyncIterator[str]:
    """A prefix for this test's rows; whatever of them is left is deleted afterwards."""
    prefix = f"ret-{uuid.uuid4().hex[:8]}"
    yield prefix
    await InboxRow.filter(message_id__startswith=prefix).delete()
    await InboxRow.filter(message_id__startswith=f"transfer-{prefix}").delete()
    await OutboxRow.filter(aggregate_id__startswith=prefix).delete()
    await AccountRow.filter(id__startswith=prefix).delete()
    await TransferRow.filter(id__startswith=prefix).delete()


async def transfer_row(transfer_id: str, state: str) -> None:
    await TransferRow.create(
        id=transfer_id,
        from_account_id="a",
        to_account_id="b",
        amount=1,
        currency="EUR",
        state=state,
        reason="",
        version=2,
    )


async def inbox_row(message_id: str, processed_at: datetime) -> None:
    await InboxRow.create(
        message_id=message_id, command="Deposit", status="accepted", processed_at=processed_at
    )


async def outbox_row(aggregate_id: str, sent_at: datetime | None, created_at: datetime) -> int:
    row = await OutboxRow.create(
        event_id=uuid.uuid4().hex,
        event_type="accounts.MoneyDeposited",
        aggregate_type="Account",
        aggregate_id=aggregate_id,
        aggregate_version=1,
        payload="{}",
        created_at=created_at,
        sent_at=sent_at,
    )
    return row.id


async def inbox_ids(prefix: str) -> set[str]:
    rows = await InboxRow.filter(message_id__startswith=prefix).values_list("message_id", flat=True)
    return {str(message_id) for message_id in rows}


async def test_inbox_rows_older_than_the_window_are_deleted_and_recent_ones_kept(
    tag: str,
) -> None:
    await inbox_row(f"{tag}-old", NOW - 8 * DAY)
    await inbox_row(f"{tag}-just-past", NOW - 7 * DAY - timedelta(seconds=1))
    await inbox_row(f"{tag}-recent", NOW - 6 * DAY)
    await inbox_row(f"{tag}-just-inside", NOW - 7 * DAY + timedelta(seconds=1))

    deleted = await sweeper().sweep_once(now=NOW)

    assert deleted == (2, 0)
    assert await inbox_ids(tag) == {f"{tag}-recent", f"{tag}-just-inside"}


async def test_saga_step_rows_stay_until_their_transfer_ended(tag: str) -> None:
    waiting, ended = f"transfer-{tag}-w", f"transfer-{tag}-e"
    for saga in (waiting, ended):
        await inbox_row(f"{saga}/withdraw/1", NOW - 8 * DAY)
        await inbox_row(f"{saga}/deposit/1", NOW - 2 * DAY)
    await transfer_row(f"{tag}-w", "needs_operator")
    await transfer_row(f"{tag}-e", "compensated")

    deleted = await sweeper().sweep_once(now=NOW)

    assert deleted == (1, 0)
    assert await inbox_ids(waiting) == {f"{waiting}/withdraw/1", f"{waiting}/deposit/1"}
    assert await inbox_ids(ended) == {f"{ended}/deposit/1"}


async def test_sent_outbox_rows_past_the_window_go_and_unsent_ones_stay_whatever_their_age(
    tag: str,
) -> None:
    old_sent = await outbox_row(tag, sent_at=NOW - 25 * HOUR, created_at=NOW - 26 * HOUR)
    ancient_unsent = await outbox_row(tag, sent_at=None, created_at=NOW - 400 * DAY)
    recent_sent = await outbox_row(tag, sent_at=NOW - 23 * HOUR, created_at=NOW - 30 * DAY)

    deleted = await sweeper().sweep_once(now=NOW)

    assert deleted == (0, 1)
    remaining = await OutboxRow.filter(aggregate_id=tag).values_list("id", flat=True)
    assert set(remaining) == {ancient_unsent, recent_sent}
    assert old_sent not in remaining


async def test_one_statement_deletes_at_most_the_batch_size(tag: str) -> None:
    for n in range(5):
        await inbox_row(f"{tag}-{n}", NOW - 10 * DAY)

    bounded = sweeper(batch_size=2)
    deleted = await bounded.delete_batch(bounded.inbox, NOW - 7 * DAY)

    assert deleted == 2
    assert len(await inbox_ids(tag)) == 3


async def test_a_sweep_deletes_everything_old_over_several_bounded_statements(tag: str) -> None:
    for n in range(5):
        await inbox_row(f"{tag}-{n}", NOW - 10 * DAY - n * HOUR)
    counting = CountingSweeper(batch_size=2)

    deleted = await counting.sweep_once(now=NOW)

    assert deleted == (5, 0)
    assert await inbox_ids(tag) == set()
    assert [n for table, n in counting.statements if table == "inbox"] == [2, 2, 1]
    assert [n for table, n in counting.statements if table == "outbox"] == [0]


async def test_two_sweeps_at_once_delete_each_row_once_and_fail_nothing(tag: str) -> None:
    for n in range(20):
        await inbox_row(f"{tag}-{n}", NOW - 10 * DAY)

    results = await asyncio.gather(
        sweeper(batch_size=3).sweep_once(now=NOW), sweeper(batch_size=3).sweep_once(now=NOW)
    )

    assert sum(inbox for inbox, _ in results) == 20
    assert await inbox_ids(tag) == set()


async def test_a_redelivery_whose_inbox_row_was_swept_is_processed_again(
    backend: Backend, tag: str
) -> None:
    """The retention trade-off: past the window, a message id is no longer a duplicate.

    Within the window the redelivered deposit is answered from the inbox and changes
    nothing; once its row is swept the same message id is applied a second time. That
    is why INBOX_RETENTION_DAYS must exceed the time a duplicate can plausibly arrive.
    """
    bus = MessageBus(backend.uow_factory, COMMAND_HANDLERS)
    account = f"{tag}-acc"
    deposit = Deposit(account_id=account, amount="5.00", currency="EUR")
    deposit_context = MessageContext(f"{tag}-deposit", deposit.name(), None)
    open_account = OpenAccount(account_id=account, owner="Ada", currency="EUR")
    await bus.handle(open_account, MessageContext(f"{tag}-open", open_account.name(), None))

    first = await bus.handle(deposit, deposit_context)
    duplicate = await bus.handle(deposit, deposit_context)
    balance_before_sweep = (await AccountRow.get(id=account)).balance
    # The deposit's inbox row ages past the window; the sweep runs as of NOW.
    await InboxRow.filter(message_id=deposit_context.message_id).update(processed_at=NOW - 8 * DAY)
    deleted = await sweeper().sweep_once(now=NOW)
    redelivered = await bus.handle(deposit, deposit_context)

    assert (first.status, first.duplicate) == (Status.ACCEPTED, False)
    assert (duplicate.status, duplicate.duplicate) == (Status.ACCEPTED, True)
    assert balance_before_sweep == Decimal("5.00")
    assert deleted == (1, 0)
    assert (redelivered.status, redelivered.duplicate) == (Status.ACCEPTED, False)
    assert (await AccountRow.get(id=account)).balance == Decimal("10.00")
