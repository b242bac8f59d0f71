"""The composition root: the one place where the worker's parts are wired together."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from worker.adapters.outbox_relay import OutboxRelay
from worker.adapters.retention import RetentionSweeper
from worker.adapters.temporal.client import TemporalConnection
from worker.adapters.temporal.dispatcher import BusDispatcher
from worker.adapters.temporal.runner import SagaRunner
from worker.adapters.temporal.starter import TRANSFER_REQUESTED, SagaStarter
from worker.adapters.tortoise_uow import tortoise_uow_factory
from worker.config import ROLES, Settings
from worker.handlers import COMMAND_HANDLERS
from worker.messagebus import MessageBus, UnitOfWorkFactory
from worker.service import WorkerService


@dataclass(frozen=True)
class Worker:
    settings: Settings
    bus: MessageBus
    relay: OutboxRelay
    service: WorkerService
    sagas: SagaRunner | None

    async def run(self, stop: asyncio.Event) -> None:
        """Consume commands and relay the outbox, and run sagas if that role is on."""
        parts = [self.service.run(stop)]
        if self.sagas is not None:
            parts.append(self.sagas.run(stop))
        await asyncio.gather(*parts)


def bootstrap(
    settings: Settings | None = None,
    uow_factory: UnitOfWorkFactory = tortoise_uow_factory,
    roles: Collection[str] = ROLES,
) -> Worker:
    """Wire bus, relay, retention, saga starter and worker. Connects to nothing: ``run`` does."""
    settings = settings or Settings()
    temporal = TemporalConnection(settings)
    relay = OutboxRelay(
        batch_size=settings.outbox_batch_size,
        poll_interval=settings.outbox_poll_interval,
        is_postgres=not settings.is_sqlite,
        before_publish={TRANSFER_REQUESTED: SagaStarter(temporal, settings.temporal_task_queue)},
        crash_after_publish=settings.test_crash_after_publish,
    )
    bus = MessageBus(uow_factory, COMMAND_HANDLERS, on_events_committed=relay.wake)
    sagas = None
    if "sagas" in roles:
        sagas = SagaRunner(temporal, settings, BusDispatcher(bus, uow_factory))
    retention = RetentionSweeper(
        inbox_retention=timedelta(days=settings.inbox_retention_days),
        outbox_retention=timedelta(hours=settings.outbox_retention_hours),
        interval=settings.retention_sweep_interval,
        batch_size=settings.retention_batch_size,
    )
    service = WorkerService(
        settings, bus, relay, consume_commands="commands" in roles, retention=retention
    )
    return Worker(settings, bus, relay, service, sagas)
