"""One contract, three storages: the fake, SQLite and PostgreSQL must agree."""

from __future__ import annotations

import uuid

import pytest

from domain.accounts.account import Account, AccountStatus
from domain.shared.errors import ConcurrencyConflict
from domain.shared.money import Money
from tests.integration.conftest import Backend
from worker.bus.outcomes import Outcome
from worker.bus.unit_of_work import DuplicateMessage, MessageContext

pytestmark = pytest.mark.integration


def context(command: str = "Deposit", correlation_id: str | None = "corr-1") -> MessageContext:
    return MessageContext(f"msg-{uuid.uuid4().hex}", command, correlation_id)


def new_id() -> str:
    return f"acc-{uuid.uuid4().hex[:10]}"


async def open_account(backend: Backend, account_id: str, currency: str = "EUR") -> None:
    ctx = context("OpenAccount")
    async with backend.uow_factory(ctx) as uow:
        uow.repository(Account).add(Account.open(account_id, "Grace Hopper", currency))
        await uow.commit(Outcome.accepted(ctx.message_id))


async def test_a_committed_aggregate_loads_back_with_every_field_and_its_version(
    backend: Backend,
) -> None:
    account_id = new_id()
    await open_account(backend, account_id, "JPY")
    ctx = context()
    async with backend.uow_factory(ctx) as uow:
        account = await uow.repository(Account).get(account_id)
        assert account is not None
        account.deposit(Money.of("1200", "JPY"))
        account.freeze()
        await uow.commit(Outcome.accepted(ctx.message_id))

    async with backend.uow_factory(context()) as uow:
        loaded = await uow.repository(Account).get(account_id)
    assert loaded is not None
    assert (loaded.id, loaded.owner, loaded.balance, loaded.status, loaded.version) == (
        account_id,
        "Grace Hopper",
        Money.of("1200", "JPY"),
        AccountStatus.FROZEN,
        3,
    )


async def test_leaving_without_commit_writes_nothing(backend: Backend) -> None:
    account_id = new_id()
    ctx = context("OpenAccount")
    async with backend.uow_factory(ctx) as uow:
        uow.repository(Account).add(Account.open(account_id, "Nobody", "EUR"))
    async with backend.uow_factory(ctx) as uow:
        assert await uow.repository(Account).get(account_id) is None
        assert await uow.recorded_outcome() is None
    assert not [row for row in await backend.outbox() if row[1] == account_id]


async def test_the_recorded_outcome_is_returned_for_the_same_message_id(backend: Backend) -> None:
    ctx = context()
    rejected = Outcome.rejected(ctx.message_id, "insufficient_funds", "not enough")
    async with backend.uow_factory(ctx) as uow:
        await uow.commit(rejected)
    async with backend.uow_factory(ctx) as uow:
        assert await uow.recorded_outcome() == rejected


async def test_committing_a_message_id_twice_raises_duplicate_message(backend: Backend) -> None:
    ctx = context()
    async with backend.uow_factory(ctx) as uow:
        await uow.commit(Outcome.accepted(ctx.message_id))
    with pytest.raises(DuplicateMessage):
        async with backend.uow_factory(ctx) as uow:
            await uow.commit(Outcome.accepted(ctx.message_id))


async def test_a_stale_version_raises_a_conflict_and_writes_nothing(backend: Backend) -> None:
    account_id = new_id()
    await open_account(backend, account_id)
    ctx = context()
    async with backend.uow_factory(ctx) as uow:
        account = await uow.repository(Account).get(account_id)
        assert account is not None
        await backend.bump_version(uow, account_id)
        account.deposit(Money.of("7.00", "EUR"))
        with pytest.raises(ConcurrencyConflict):
            await uow.commit(Outcome.accepted(ctx.message_id))

    async with backend.uow_factory(ctx) as uow:
        assert await uow.recorded_outcome() is None, "the loser's inbox row was rolled back"
        reloaded = await uow.repository(Account).get(account_id)
    assert reloaded is not None
    assert reloaded.balance == Money.of("0", "EUR")
    assert not [
        row
        for row in await backend.outbox()
        if row[0] == "accounts.MoneyDeposited" and row[1] == account_id
    ]


async def test_opening_an_id_that_was_just_created_raises_a_conflict(backend: Backend) -> None:
    account_id = new_id()
    await open_account(backend, account_id)
    ctx = context("OpenAccount")
    async with backend.uow_factory(ctx) as uow:
        uow.repository(Account).add(Account.open(account_id, "Impostor", "EUR"))
        with pytest.raises(ConcurrencyConflict):
            await uow.commit(Outcome.accepted(ctx.message_id))


async def test_events_go_to_the_outbox_with_their_cause_and_correlation(backend: Backend) -> None:
    account_id = new_id()
    await open_account(backend, account_id)
    ctx = context(correlation_id="corr-outbox")
    async with backend.uow_factory(ctx) as uow:
        account = await uow.repository(Account).get(account_id)
        assert account is not None
        account.deposit(Money.of("3.50", "EUR"))
        account.withdraw(Money.of("1.25", "EUR"))
        await uow.commit(Outcome.accepted(ctx.message_id))
        assert uow.events_committed == 2

    rows = [row for row in await backend.outbox() if row[1] == account_id]
    assert [(r[0], r[2]) for r in rows] == [
        ("accounts.AccountOpened", 1),
        ("accounts.MoneyDeposited", 2),
        ("accounts.MoneyWithdrawn", 3),
    ]
    deposited = rows[1]
    assert deposited[3]["account_id"] == account_id
    assert (deposited[3]["amount"], deposited[3]["balance"]) == ("3.50", "3.50")
    assert "occurred_at" in deposited[3]
    assert (deposited[4], deposited[5]) == (ctx.message_id, "corr-outbox")


async def test_listing_returns_accounts_in_id_order(backend: Backend) -> None:
    ids = sorted(new_id() for _ in range(3))
    for account_id in reversed(ids):
        await open_account(backend, account_id)
    async with backend.uow_factory(context()) as uow:
        listed = [a.id for a in await uow.repository(Account).list() if a.id in ids]
    assert listed == ids
