"""The outbox relay against the real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel

from domain.accounts.account import Account
from domain.shared.money import Money
from tests.services import private_vhost
from tests.wiring import COMMANDS, CONTEXTS, tortoise_uow_factory
from worker.bus.outcomes import Outcome
from worker.bus.unit_of_work import MessageContext
from worker.config import Settings
from worker.messaging import topology
from worker.messaging.outbox_relay import OutboxRelay
from worker.persistence import database
from worker.persistence.models import OutboxRow

pytestmark = pytest.mark.integration


@pytest.fixture
async def postgres(database_url: str) -> AsyncIterator[None]:
    await database.connect(Settings(database_url=database_url), CONTEXTS)
    yield
    await database.close()


@pytest.fixture
async def bare_vhost() -> AsyncIterator[AbstractChannel]:
    """A vhost where ``domain-events`` exists without the worker's alternate exchange."""
    with private_vhost(f"relay-{uuid.uuid4().hex[:8]}") as url:
        connection = await aio_pika.connect(url)
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        await channel.declare_exchange(topology.EVENTS_EXCHANGE, ExchangeType.TOPIC, durable=True)
        yield channel
        await connection.close()


async def commit_deposits(account_id: str, count: int) -> None:
    ctx = MessageContext(f"open-{account_id}", "OpenAccount", "corr-relay")
    async with tortoise_uow_factory(ctx) as uow:
        uow.repository(Account).add(Account.open(account_id, "Relay Test", "EUR"))
        await uow.commit(Outcome.accepted(ctx.message_id))
    for i in range(count):
        ctx = MessageContext(f"dep-{account_id}-{i}", "Deposit", "corr-relay")
        async with tortoise_uow_factory(ctx) as uow:
            account = await uow.repository(Account).get(account_id)
            assert account is not None
            account.deposit(Money.of("1.00", "EUR"))
            await uow.commit(Outcome.accepted(ctx.message_id))


def relay() -> OutboxRelay:
    return OutboxRelay(batch_size=1000, poll_interval=0.1, is_postgres=True)


async def test_an_unroutable_event_stays_unsent_and_goes_out_once_it_can_be_routed(
    postgres: None, bare_vhost: AbstractChannel
) -> None:
    account_id = f"unroutable-{uuid.uuid4().hex[:8]}"
    await commit_deposits(account_id, 2)

    await relay().publish_pending(bare_vhost)
    unsent = await OutboxRow.filter(aggregate_id=account_id, sent_at=None).count()
    assert unsent == 3, "a returned (unroutable) publish is not marked as sent"

    queue = await bare_vhost.declare_queue(exclusive=True)
    await queue.bind(topology.EVENTS_EXCHANGE, routing_key="accounts.#")
    while await relay().publish_pending(bare_vhost):
        pass
    assert await OutboxRow.filter(aggregate_id=account_id, sent_at=None).count() == 0
    got = []
    while (message := await queue.get(fail=False, no_ack=True)) is not None:
        if message.headers["aggregate-id"] == account_id:
            got.append((message.type, message.headers["aggregate-version"]))
    assert got == [
        ("accounts.AccountOpened", 1),
        ("accounts.MoneyDeposited", 2),
        ("accounts.MoneyDeposited", 3),
    ]


async def test_published_events_carry_the_wire_contract(postgres: None, amqp_url: str) -> None:
    account_id = f"contract-{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    await topology.declare_all(channel, COMMANDS)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(topology.EVENTS_EXCHANGE, routing_key="accounts.MoneyDeposited")
    await commit_deposits(account_id, 1)
    while await relay().publish_pending(channel):
        pass
    message = None
    while (candidate := await queue.get(fail=False, no_ack=True)) is not None:
        if candidate.headers["aggregate-id"] == account_id:
            message = candidate
    await connection.close()

    assert message is not None
    row = await OutboxRow.get(aggregate_id=account_id, aggregate_version=2)
    assert message.message_id == row.event_id
    assert message.type == message.routing_key == "accounts.MoneyDeposited"
    assert message.correlation_id == "corr-relay"
    assert message.content_type == "application/json"
    assert message.headers["causation-id"] == f"dep-{account_id}-0"
    assert message.headers["aggregate-version"] == 2
    assert row.sent_at is not None
