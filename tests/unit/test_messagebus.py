"""The message bus over the in-memory fakes: exactly-once handling, inbox and outbox.

Every test injects a :class:`tests.fakes.FakeUnitOfWorkFactory` (or a small
wrapper around it) through the bus constructor, the seam the real adapters use.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from domain.accounts.account import (
    Account,
    AccountClosed,
    AccountFrozen,
    AccountOpened,
    AccountStatus,
    AccountUnfrozen,
    MoneyDeposited,
    MoneyWithdrawn,
)
from domain.shared.errors import ConcurrencyConflict
from domain.shared.money import Money
from tests.fakes import FakeStore, FakeUnitOfWork, FakeUnitOfWorkFactory
from tests.wiring import HANDLERS as COMMAND_HANDLERS
from worker.bus.commands import Command
from worker.bus.messagebus import Handler, KeyedLocks, MessageBus
from worker.bus.outcomes import Outcome, Status
from worker.bus.unit_of_work import MessageContext, UnitOfWork
from worker.contexts.accounts.commands import (
    CloseAccount,
    Deposit,
    FreezeAccount,
    OpenAccount,
    UnfreezeAccount,
    Withdraw,
)

ACCOUNT = "acc-1"
SEEDED_VERSION = 3


# --- helpers -----------------------------------------------------------------


class Counter:
    """Stands in for the outbox relay's wake-up call."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def seed(
    store: FakeStore,
    account_id: str = ACCOUNT,
    *,
    balance: str = "100.00",
    currency: str = "EUR",
    status: AccountStatus = AccountStatus.OPEN,
    version: int = SEEDED_VERSION,
    owner: str = "Ada Lovelace",
) -> None:
    """Put a committed account row straight into the fake store."""
    store.accounts[account_id] = {
        "owner": owner,
        "balance": Money.of(balance, currency),
        "status": status.value,
        "version": version,
    }


def context_for(
    command: Command, message_id: str, correlation_id: str | None = "corr-1"
) -> MessageContext:
    return MessageContext(message_id, command.name(), correlation_id)


async def send(
    bus: MessageBus,
    command: Command,
    message_id: str = "msg-1",
    correlation_id: str | None = "corr-1",
) -> Outcome:
    return await bus.handle(command, context_for(command, message_id, correlation_id))


def deposit(amount: str, account_id: str = ACCOUNT, currency: str = "EUR") -> Deposit:
    return Deposit(account_id=account_id, amount=amount, currency=currency)


def withdraw(amount: str, account_id: str = ACCOUNT, currency: str = "EUR") -> Withdraw:
    return Withdraw(account_id=account_id, amount=amount, currency=currency)


class CountingFactory(FakeUnitOfWorkFactory):
    """Remembers every unit of work it hands out."""

    def __init__(self, store: FakeStore | None = None) -> None:
        super().__init__(store)
        self.made: list[FakeUnitOfWork] = []

    def __call__(self, context: MessageContext) -> FakeUnitOfWork:
        uow = super().__call__(context)
        self.made.append(uow)
        return uow


class InterferingUnitOfWork(FakeUnitOfWork):
    """Runs ``interfere`` on the store just before committing: a concurrent writer."""

    def __init__(
        self,
        context: MessageContext,
        store: FakeStore,
        interfere: Callable[[FakeStore], None] | None,
    ) -> None:
        super().__init__(context, store)
        self._interfere = interfere

    async def commit(self, outcome: Outcome) -> None:
        if self._interfere is not None:
            self._interfere(self.store)
        await super().commit(outcome)


class InterferingFactory(CountingFactory):
    """The first ``times`` units of work (all, if ``times`` is None) get interfered with."""

    def __init__(
        self,
        store: FakeStore,
        interfere: Callable[[FakeStore], None],
        times: int | None = 1,
    ) -> None:
        super().__init__(store)
        self._interfere = interfere
        self._times = times

    def __call__(self, context: MessageContext) -> FakeUnitOfWork:
        interfering = self._times is None or len(self.made) < self._times
        uow = InterferingUnitOfWork(context, self.store, self._interfere if interfering else None)
        self.made.append(uow)
        return uow


class YieldingUnitOfWork(FakeUnitOfWork):
    """Gives the event loop a chance to run other tasks between load and commit."""

    def __init__(self, context: MessageContext, factory: YieldingFactory) -> None:
        super().__init__(context, factory.store)
        self._factory = factory

    async def __aenter__(self) -> UnitOfWork:
        self._factory.active += 1
        self._factory.max_active = max(self._factory.max_active, self._factory.active)
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._factory.active -= 1

    async def recorded_outcome(self) -> Outcome | None:
        await asyncio.sleep(0)
        return await super().recorded_outcome()

    async def commit(self, outcome: Outcome) -> None:
        await asyncio.sleep(0)
        await super().commit(outcome)


class YieldingFactory(FakeUnitOfWorkFactory):
    def __init__(self, store: FakeStore | None = None) -> None:
        super().__init__(store)
        self.calls = 0
        self.active = 0
        self.max_active = 0

    def __call__(self, context: MessageContext) -> FakeUnitOfWork:
        self.calls += 1
        return YieldingUnitOfWork(context, self)


def always_conflict(store: FakeStore) -> None:
    raise ConcurrencyConflict("somebody else got there first")


def another_writer_deposits(amount: str) -> Callable[[FakeStore], None]:
    def interfere(store: FakeStore) -> None:
        row = store.accounts[ACCOUNT]
        row["balance"] = row["balance"] + Money.of(amount, "EUR")
        row["version"] += 1

    return interfere


def another_writer_withdraws(amount: str) -> Callable[[FakeStore], None]:
    def interfere(store: FakeStore) -> None:
        row = store.accounts[ACCOUNT]
        row["balance"] = row["balance"] - Money.of(amount, "EUR")
        row["version"] += 1

    return interfere


def balance_of(store: FakeStore, account_id: str = ACCOUNT) -> Money:
    balance = store.accounts[account_id]["balance"]
    assert isinstance(balance, Money)
    return balance


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def woken() -> Counter:
    return Counter()


@pytest.fixture
def bus(store: FakeStore, woken: Counter) -> MessageBus:
    return MessageBus(FakeUnitOfWorkFactory(store), COMMAND_HANDLERS, on_events_committed=woken)


# --- accepted commands ---------------------------------------------------------


async def test_opening_an_account_stores_it_empty_and_records_account_opened(
    bus: MessageBus, store: FakeStore
) -> None:
    outcome = await send(bus, OpenAccount(account_id=ACCOUNT, owner="Ada", currency="EUR"))

    assert outcome == Outcome(Status.ACCEPTED, "msg-1")
    assert store.accounts[ACCOUNT] == {
        "owner": "Ada",
        "balance": Money.zero("EUR"),
        "status": "open",
        "version": 1,
    }
    assert store.inbox == {"msg-1": outcome}
    [(event, context)] = store.outbox
    assert type(event) is AccountOpened
    assert (event.aggregate_id, event.aggregate_version) == (ACCOUNT, 1)
    assert (event.owner, event.currency) == ("Ada", "EUR")
    assert (context.message_id, context.correlation_id) == ("msg-1", "corr-1")
    assert context.command_name == "OpenAccount"


async def test_a_deposit_adds_to_the_balance_and_records_money_deposited(
    bus: MessageBus, store: FakeStore
) -> None:
    seed(store)

    outcome = await send(bus, deposit("10.50"), "msg-dep", "corr-dep")

    assert outcome.status is Status.ACCEPTED
    assert balance_of(store) == Money.of("110.50", "EUR")
    assert store.accounts[ACCOUNT]["version"] == SEEDED_VERSION + 1
    [(event, context)] = store.outbox
    assert type(event) is MoneyDeposited
    assert event.aggregate_version == SEEDED_VERSION + 1
    assert (event.amount, event.currency, event.balance) == ("10.50", "EUR", "110.50")
    assert (context.message_id, context.correlation_id) == ("msg-dep", "corr-dep")


async def test_a_withdrawal_takes_from_the_balance_and_records_money_withdrawn(
    bus: MessageBus, store: FakeStore
) -> None:
    seed(store)

    outcome = await send(bus, withdraw("99.99"), "msg-wd")

    assert outcome.status is Status.ACCEPTED
    assert balance_of(store) == Money.of("0.01", "EUR")
    assert store.accounts[ACCOUNT]["version"] == SEEDED_VERSION + 1
    [(event, context)] = store.outbox
    assert type(event) is MoneyWithdrawn
    assert event.aggregate_version == SEEDED_VERSION + 1
    assert (event.amount, event.currency, event.balance) == ("99.99", "EUR", "0.01")
    assert context.message_id == "msg-wd"


async def test_withdrawing_the_whole_balance_is_allowed(bus: MessageBus, store: FakeStore) -> None:
    seed(store)

    outcome = await send(bus, withdraw("100.00"))

    assert outcome.status is Status.ACCEPTED
    assert balance_of(store).is_zero


@pytest.mark.parametrize(
    ("start", "command", "event_type", "end"),
    [
        (AccountStatus.OPEN, FreezeAccount(account_id=ACCOUNT), AccountFrozen, "frozen"),
        (AccountStatus.FROZEN, UnfreezeAccount(account_id=ACCOUNT), AccountUnfrozen, "open"),
        (AccountStatus.OPEN, CloseAccount(account_id=ACCOUNT), AccountClosed, "closed"),
        (AccountStatus.FROZEN, CloseAccount(account_id=ACCOUNT), AccountClosed, "closed"),
    ],
    ids=["freeze", "unfreeze", "close", "close-frozen"],
)
async def test_a_status_command_changes_the_status_and_records_one_event(
    bus: MessageBus,
    store: FakeStore,
    start: AccountStatus,
    command: Command,
    event_type: type,
    end: str,
) -> None:
    seed(store, balance="0.00", status=start)

    outcome = await send(bus, command, "msg-status", None)

    assert outcome == Outcome.accepted("msg-status")
    assert store.accounts[ACCOUNT]["status"] == end
    assert store.accounts[ACCOUNT]["version"] == SEEDED_VERSION + 1
    assert balance_of(store).is_zero
    [(event, context)] = store.outbox
    assert type(event) is event_type
    assert (event.aggregate_id, event.aggregate_version) == (ACCOUNT, SEEDED_VERSION + 1)
    assert context == MessageContext("msg-status", command.name(), None)


async def test_a_whole_account_lifecycle_records_one_event_per_command_with_consecutive_versions(
    bus: MessageBus, store: FakeStore
) -> None:
    script: list[Command] = [
        OpenAccount(account_id=ACCOUNT, owner="Ada", currency="EUR"),
        deposit("50.00"),
        withdraw("20.00"),
        FreezeAccount(account_id=ACCOUNT),
        UnfreezeAccount(account_id=ACCOUNT),
        withdraw("30.00"),
        CloseAccount(account_id=ACCOUNT),
    ]

    for number, command in enumerate(script, start=1):
        outcome = await send(bus, command, f"msg-{number}", "saga-1")
        assert outcome.status is Status.ACCEPTED, outcome

    assert [type(event) for event, _ in store.outbox] == [
        AccountOpened,
        MoneyDeposited,
        MoneyWithdrawn,
        AccountFrozen,
        AccountUnfrozen,
        MoneyWithdrawn,
        AccountClosed,
    ]
    assert [event.aggregate_version for event, _ in store.outbox] == list(range(1, 8))
    assert [context.message_id for _, context in store.outbox] == [f"msg-{n}" for n in range(1, 8)]
    assert {context.correlation_id for _, context in store.outbox} == {"saga-1"}
    assert len({event.event_id for event, _ in store.outbox}) == 7
    assert store.accounts[ACCOUNT]["status"] == "closed"
    assert store.accounts[ACCOUNT]["version"] == 7
    assert store.commits == 7


async def test_an_accepted_outcome_is_recorded_in_the_inbox_in_the_same_commit(
    bus: MessageBus, store: FakeStore
) -> None:
    seed(store)

    outcome = await send(bus, deposit("1.00"))

    assert store.commits == 1
    assert store.inbox == {"msg-1": outcome}


# --- rejections ----------------------------------------------------------------


REJECTIONS: list[Any] = [
    pytest.param({}, withdraw("100.01"), "insufficient_funds", id="insufficient-funds"),
    pytest.param({"status": AccountStatus.FROZEN}, withdraw("1.00"), "account_frozen", id="frozen"),
    pytest.param(
        {"status": AccountStatus.CLOSED, "balance": "0.00"},
        deposit("1.00"),
        "account_closed",
        id="closed",
    ),
    pytest.param(
        {"status": AccountStatus.CLOSED, "balance": "0.00"},
        withdraw("1.00"),
        "account_closed",
        id="withdraw-from-closed",
    ),
    pytest.param({}, deposit("1.00", currency="USD"), "currency_mismatch", id="currency-mismatch"),
    pytest.param(
        {}, withdraw("1.00", currency="JPY"), "currency_mismatch", id="currency-mismatch-withdraw"
    ),
    pytest.param({}, deposit("1.00", account_id="nobody"), "account_not_found", id="unknown"),
    pytest.param(
        {},
        CloseAccount(account_id="nobody"),
        "account_not_found",
        id="unknown-close",
    ),
    pytest.param(
        {},
        OpenAccount(account_id=ACCOUNT, owner="Somebody Else", currency="USD"),
        "account_already_exists",
        id="account-exists",
    ),
    pytest.param({}, CloseAccount(account_id=ACCOUNT), "non_zero_balance", id="non-zero-close"),
    pytest.param(
        {}, UnfreezeAccount(account_id=ACCOUNT), "invalid_state_transition", id="unfreeze-open"
    ),
    pytest.param(
        {"status": AccountStatus.FROZEN},
        FreezeAccount(account_id=ACCOUNT),
        "invalid_state_transition",
        id="freeze-frozen",
    ),
]


@pytest.mark.parametrize(("seeded", "command", "code"), REJECTIONS)
async def test_a_refused_command_commits_only_its_rejected_outcome(
    bus: MessageBus,
    store: FakeStore,
    woken: Counter,
    seeded: dict[str, Any],
    command: Command,
    code: str,
) -> None:
    seed(store, **seeded)
    accounts_before = copy.deepcopy(store.accounts)

    outcome = await send(bus, command, "msg-no")

    assert outcome.status is Status.REJECTED
    assert outcome.message_id == "msg-no"
    assert not outcome.duplicate
    assert outcome.error is not None
    assert outcome.error.code == code
    assert outcome.error.message
    assert store.accounts == accounts_before
    assert store.outbox == []
    assert store.inbox == {"msg-no": outcome}
    assert store.commits == 1
    assert woken.calls == 0


async def test_a_rejection_message_explains_the_refusal(bus: MessageBus, store: FakeStore) -> None:
    seed(store, balance="5.00")

    outcome = await send(bus, withdraw("7.00"))

    assert outcome.error is not None
    assert ACCOUNT in outcome.error.message
    assert "5.00 EUR" in outcome.error.message
    assert "7.00 EUR" in outcome.error.message


async def test_after_a_rejection_the_account_still_accepts_valid_commands(
    bus: MessageBus, store: FakeStore
) -> None:
    seed(store)

    refused = await send(bus, withdraw("500.00"), "msg-1")
    accepted = await send(bus, withdraw("40.00"), "msg-2")

    assert refused.status is Status.REJECTED
    assert accepted.status is Status.ACCEPTED
    assert balance_of(store) == Money.of("60.00", "EUR")
    [(event, _)] = store.outbox
    assert event.aggregate_version == SEEDED_VERSION + 1


async def test_an_unexpected_handler_error_propagates_and_commits_nothing(
    store: FakeStore, woken: Counter
) -> None:
    async def broken(command: Any, uow: UnitOfWork) -> None:
        account = await uow.repository(Account).get(command.account_id)
        assert account is not None
        account.deposit(command.money)
        raise RuntimeError("a bug after changing the aggregate")

    handlers: dict[type[Command], Handler] = {**COMMAND_HANDLERS, Deposit: broken}
    bus = MessageBus(FakeUnitOfWorkFactory(store), handlers, on_events_committed=woken)
    seed(store)
    accounts_before = copy.deepcopy(store.accounts)

    with pytest.raises(RuntimeError, match="a bug"):
        await send(bus, deposit("1.00"))

    assert store.accounts == accounts_before
    assert store.inbox == {}
    assert store.outbox == []
    assert store.commits == 0
    assert woken.calls == 0


# --- duplicates ------------------------------------------------------------------


async def test_a_duplicate_message_id_changes_nothing_and_returns_the_recorded_outcome(
    bus: MessageBus, store: FakeStore, woken: Counter
) -> None:
    seed(store)
    first = await send(bus, deposit("10.00"), "msg-dup")
    snapshot = (copy.deepcopy(store.accounts), list(store.outbox), dict(store.inbox))

    second = await send(bus, deposit("10.00"), "msg-dup")

    assert first.duplicate is False
    assert second == first.as_duplicate()
    assert second.duplicate is True
    assert second.status is Status.ACCEPTED
    assert (store.accounts, store.outbox, store.inbox) == snapshot
    assert balance_of(store) == Money.of("110.00", "EUR")
    assert store.commits == 1
    assert woken.calls == 1


async def test_a_duplicate_of_a_rejected_message_returns_the_recorded_rejection(
    bus: MessageBus, store: FakeStore
) -> None:
    seed(store, balance="5.00")
    first = await send(bus, withdraw("7.00"), "msg-dup")
    seed(store, balance="50.00")  # the withdrawal would now succeed: it must not run again

    second = await send(bus, withdraw("7.00"), "msg-dup")

    assert first.status is Status.REJECTED
    assert second == first.as_duplicate()
    assert second.error == first.error
    assert balance_of(store) == Money.of("50.00", "EUR")
    assert store.outbox == []
    assert store.commits == 1


async def test_a_reused_message_id_with_a_different_command_changes_nothing(
    bus: MessageBus, store: FakeStore
) -> None:
    seed(store)
    first = await send(bus, deposit("10.00"), "msg-same")

    second = await send(bus, withdraw("60.00"), "msg-same")

    assert second == first.as_duplicate()
    assert balance_of(store) == Money.of("110.00", "EUR")
    assert len(store.outbox) == 1


async def test_many_redeliveries_of_one_message_apply_it_once(
    bus: MessageBus, store: FakeStore
) -> None:
    seed(store)

    outcomes = [await send(bus, deposit("1.00"), "msg-again") for _ in range(5)]

    assert [o.duplicate for o in outcomes] == [False, True, True, True, True]
    assert balance_of(store) == Money.of("101.00", "EUR")
    assert store.commits == 1


async def test_concurrent_redeliveries_of_one_message_apply_it_once(
    store: FakeStore,
) -> None:
    factory = YieldingFactory(store)
    bus = MessageBus(factory, COMMAND_HANDLERS)
    seed(store)

    outcomes = await asyncio.gather(*(send(bus, deposit("1.00"), "msg-again") for _ in range(10)))

    assert sorted(o.duplicate for o in outcomes) == [False] + [True] * 9
    assert balance_of(store) == Money.of("101.00", "EUR")
    assert len(store.outbox) == 1


# --- conflicts and retries ----------------------------------------------------------


async def test_a_conflicting_concurrent_change_is_retried_on_fresh_state(
    store: FakeStore, woken: Counter
) -> None:
    seed(store)
    factory = InterferingFactory(store, another_writer_deposits("5.00"))
    bus = MessageBus(factory, COMMAND_HANDLERS, on_events_committed=woken)

    outcome = await send(bus, deposit("10.00"))

    assert outcome == Outcome.accepted("msg-1")
    assert len(factory.made) == 2
    assert balance_of(store) == Money.of("115.00", "EUR")
    assert store.accounts[ACCOUNT]["version"] == SEEDED_VERSION + 2
    [(event, context)] = store.outbox
    assert event.aggregate_version == SEEDED_VERSION + 2
    assert isinstance(event, MoneyDeposited)
    assert event.balance == "115.00"
    assert context.message_id == "msg-1"
    assert store.inbox == {"msg-1": outcome}
    assert store.commits == 1
    assert woken.calls == 1


async def test_a_commit_that_raises_a_conflict_once_is_retried_and_succeeds(
    store: FakeStore,
) -> None:
    seed(store)
    factory = InterferingFactory(store, always_conflict, times=1)
    bus = MessageBus(factory, COMMAND_HANDLERS)

    outcome = await send(bus, withdraw("30.00"))

    assert outcome.status is Status.ACCEPTED
    assert len(factory.made) == 2
    assert balance_of(store) == Money.of("70.00", "EUR")
    assert [e.aggregate_version for e, _ in store.outbox] == [SEEDED_VERSION + 1]


async def test_a_retry_rechecks_the_rules_against_the_changed_account(
    store: FakeStore,
) -> None:
    seed(store)
    factory = InterferingFactory(store, another_writer_withdraws("95.00"))
    bus = MessageBus(factory, COMMAND_HANDLERS)

    outcome = await send(bus, withdraw("10.00"))

    assert outcome.status is Status.REJECTED
    assert outcome.error is not None
    assert outcome.error.code == "insufficient_funds"
    assert balance_of(store) == Money.of("5.00", "EUR")
    assert store.outbox == []
    assert store.inbox == {"msg-1": outcome}


async def test_several_conflicts_in_a_row_are_all_retried(store: FakeStore) -> None:
    seed(store)
    factory = InterferingFactory(store, another_writer_deposits("1.00"), times=4)
    bus = MessageBus(factory, COMMAND_HANDLERS, max_conflict_retries=4)

    outcome = await send(bus, deposit("10.00"))

    assert outcome.status is Status.ACCEPTED
    assert len(factory.made) == 5
    assert balance_of(store) == Money.of("114.00", "EUR")
    assert store.accounts[ACCOUNT]["version"] == SEEDED_VERSION + 5


async def test_a_concurrent_delivery_of_the_same_message_wins_and_the_retry_returns_its_outcome(
    store: FakeStore, woken: Counter
) -> None:
    seed(store)

    def the_other_delivery_commits_first(store: FakeStore) -> None:
        another_writer_deposits("10.00")(store)
        store.inbox["msg-1"] = Outcome.accepted("msg-1")

    factory = InterferingFactory(store, the_other_delivery_commits_first)
    bus = MessageBus(factory, COMMAND_HANDLERS, on_events_committed=woken)

    outcome = await send(bus, deposit("10.00"))

    assert outcome == Outcome.accepted("msg-1").as_duplicate()
    assert len(factory.made) == 2
    assert balance_of(store) == Money.of("110.00", "EUR")
    assert store.outbox == []
    assert woken.calls == 0


@pytest.mark.parametrize("max_retries", [0, 1, 3])
async def test_conflict_retries_are_bounded_and_the_last_conflict_propagates(
    store: FakeStore, woken: Counter, max_retries: int
) -> None:
    seed(store)
    accounts_before = copy.deepcopy(store.accounts)
    factory = InterferingFactory(store, always_conflict, times=None)
    bus = MessageBus(
        factory, COMMAND_HANDLERS, max_conflict_retries=max_retries, on_events_committed=woken
    )

    with pytest.raises(ConcurrencyConflict):
        await send(bus, deposit("10.00"))

    assert len(factory.made) == max_retries + 1
    assert store.accounts == accounts_before
    assert store.inbox == {}
    assert store.outbox == []
    assert woken.calls == 0


async def test_the_bus_gives_up_after_ten_retries_by_default(store: FakeStore) -> None:
    seed(store)
    factory = InterferingFactory(store, always_conflict, times=None)
    bus = MessageBus(factory, COMMAND_HANDLERS)

    with pytest.raises(ConcurrencyConflict):
        await send(bus, deposit("10.00"))

    assert len(factory.made) == 11


# --- the outbox relay's wake-up ----------------------------------------------------------


async def test_on_events_committed_is_called_once_per_commit_with_events(
    bus: MessageBus, store: FakeStore, woken: Counter
) -> None:
    await send(bus, OpenAccount(account_id=ACCOUNT, owner="Ada", currency="EUR"), "m-1")
    assert woken.calls == 1

    await send(bus, deposit("5.00"), "m-2")
    assert woken.calls == 2


async def test_on_events_committed_is_not_called_for_rejections_or_duplicates(
    bus: MessageBus, store: FakeStore, woken: Counter
) -> None:
    seed(store)

    await send(bus, withdraw("1000.00"), "m-rejected")
    await send(bus, deposit("1.00"), "m-accepted")
    await send(bus, deposit("1.00"), "m-accepted")
    await send(bus, withdraw("1000.00"), "m-rejected")

    assert woken.calls == 1


async def test_on_events_committed_is_called_only_after_the_commit(store: FakeStore) -> None:
    seen_at_wake_up: list[int] = []
    bus = MessageBus(
        FakeUnitOfWorkFactory(store),
        COMMAND_HANDLERS,
        on_events_committed=lambda: seen_at_wake_up.append(len(store.outbox)),
    )
    seed(store)

    await send(bus, deposit("1.00"))

    assert seen_at_wake_up == [1]


# --- concurrency within one process ----------------------------------------------------------


async def test_many_concurrent_deposits_to_one_account_end_at_the_exact_sum(
    store: FakeStore,
) -> None:
    seed(store, balance="0.00", version=1)
    factory = YieldingFactory(store)
    bus = MessageBus(factory, COMMAND_HANDLERS)
    count = 100

    outcomes = await asyncio.gather(*(send(bus, deposit("0.01"), f"msg-{n}") for n in range(count)))

    assert all(o.status is Status.ACCEPTED for o in outcomes)
    assert balance_of(store) == Money.of("1.00", "EUR")
    assert store.accounts[ACCOUNT]["version"] == 1 + count
    assert sorted(e.aggregate_version for e, _ in store.outbox) == list(range(2, 2 + count))
    # serialised by the bus's per-account lock: no attempt ever had to be retried
    assert factory.calls == count
    assert factory.max_active == 1


async def test_concurrent_deposits_and_withdrawals_never_overdraw_and_balance_exactly(
    store: FakeStore,
) -> None:
    seed(store, balance="10.00", version=1)
    bus = MessageBus(YieldingFactory(store), COMMAND_HANDLERS)
    commands: list[Command] = []
    for _ in range(20):
        commands += [withdraw("3.00"), deposit("1.00")]

    outcomes = await asyncio.gather(
        *(send(bus, command, f"msg-{n}") for n, command in enumerate(commands))
    )

    accepted = [c for c, o in zip(commands, outcomes, strict=True) if o.status is Status.ACCEPTED]
    expected = Decimal("10.00") + sum(
        (Decimal(c.amount) if isinstance(c, Deposit) else -Decimal(c.amount))
        for c in accepted
        if isinstance(c, Deposit | Withdraw)
    )
    assert balance_of(store) == Money(expected, balance_of(store).currency)
    assert not balance_of(store).is_negative
    assert len(store.outbox) == len(accepted)
    assert store.accounts[ACCOUNT]["version"] == 1 + len(accepted)


async def test_commands_to_different_accounts_are_not_serialised_against_each_other(
    store: FakeStore,
) -> None:
    seed(store, "acc-a")
    seed(store, "acc-b")
    factory = YieldingFactory(store)
    bus = MessageBus(factory, COMMAND_HANDLERS)

    await asyncio.gather(
        send(bus, deposit("1.00", account_id="acc-a"), "msg-a"),
        send(bus, deposit("1.00", account_id="acc-b"), "msg-b"),
    )

    assert factory.max_active == 2
    assert balance_of(store, "acc-a") == balance_of(store, "acc-b") == Money.of("101.00", "EUR")


async def test_keyed_locks_are_dropped_once_nobody_holds_or_waits_for_them() -> None:
    locks = KeyedLocks()

    async def hold(key: str) -> None:
        async with locks.hold(key):
            await asyncio.sleep(0)

    await asyncio.gather(hold("a"), hold("a"), hold("b"))

    assert locks._locks == {}
    assert dict(locks._users) == {}


# --- one unit of work per message ------------------------------------------------------------


async def test_each_message_gets_a_fresh_unit_of_work(store: FakeStore) -> None:
    factory = CountingFactory(store)
    bus = MessageBus(factory, COMMAND_HANDLERS)

    await send(bus, OpenAccount(account_id=ACCOUNT, owner="Ada", currency="EUR"), "m-1")
    await send(bus, deposit("5.00"), "m-2")
    await send(bus, withdraw("500.00"), "m-3")
    await send(bus, deposit("5.00"), "m-2")

    # The duplicate takes two: one finds the message id taken at commit, one reads
    # the recorded outcome.
    assert len(factory.made) == 5
    assert len({id(uow) for uow in factory.made}) == 5
    assert [uow.context.message_id for uow in factory.made] == ["m-1", "m-2", "m-3", "m-2", "m-2"]
    assert [uow.committed for uow in factory.made] == [True, True, True, False, False]
