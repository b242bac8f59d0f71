"""The composition root: the one place where the worker's parts are wired together."""

from __future__ import annotations

from dataclasses import dataclass

from worker.adapters.outbox_relay import OutboxRelay
from worker.adapters.tortoise_uow import tortoise_uow_factory
from worker.config import Settings
from worker.handlers import COMMAND_HANDLERS
from worker.messagebus import MessageBus, UnitOfWorkFactory
from worker.service import WorkerService


@dataclass(frozen=True)
class Worker:
    settings: Settings
    bus: MessageBus
    relay: OutboxRelay
    service: WorkerService


def bootstrap(
    settings: Settings | None = None, uow_factory: UnitOfWorkFactory = tortoise_uow_factory
) -> Worker:
    """Wire the bus, relay and service. Connects to nothing: that happens in ``run``."""
    settings = settings or Settings()
    relay = OutboxRelay(
        batch_size=settings.outbox_batch_size,
        poll_interval=settings.outbox_poll_interval,
        is_postgres=not settings.is_sqlite,
    )
    bus = MessageBus(uow_factory, COMMAND_HANDLERS, on_events_committed=relay.wake)
    return Worker(settings, bus, relay, WorkerService(settings, bus, relay))
