"""The composition root: the one list of bounded contexts, and the one place the worker is wired.

Adding a context is its folders plus one line in :func:`contexts`. Nothing here
connects: ``Worker.run`` does. The wiring's imports sit inside :func:`bootstrap`
so that the CLI, which reads only the contexts, does not pay for them.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from worker.config import DEFAULT_ROLES, Settings
from worker.context import BoundedContext, Contexts

if TYPE_CHECKING:
    from worker.bus.messagebus import MessageBus, UnitOfWorkFactory
    from worker.messaging.outbox_relay import OutboxRelay
    from worker.sagas.runner import SagaRunner
    from worker.service import WorkerService
    from worker.web.server import HttpServer


def contexts(settings: Settings | None = None, extra: Sequence[str] | None = None) -> Contexts:
    """The service's bounded contexts, then the ``EXTRA_CONTEXTS`` ones (``module:NAME``),
    from ``settings`` or, when given, ``extra``."""
    from worker.contexts import accounts, catalog, customers, orders, transfers

    listed = [
        accounts.CONTEXT,
        transfers.CONTEXT,
        customers.CONTEXT,
        catalog.CONTEXT,
        orders.CONTEXT,
    ]
    if extra is None:
        extra = (settings or Settings()).extra_context_names
    return Contexts([*listed, *(_load(reference) for reference in extra)])


def _load(reference: str) -> BoundedContext:
    module, _, name = reference.partition(":")
    declared = getattr(importlib.import_module(module), name or "CONTEXT")
    if not isinstance(declared, BoundedContext):
        raise TypeError(f"{reference} is not a BoundedContext")
    return declared


@dataclass(frozen=True)
class Worker:
    settings: Settings
    contexts: Contexts
    bus: MessageBus
    relay: OutboxRelay
    service: WorkerService | None
    sagas: SagaRunner | None
    http: HttpServer | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Consume commands and events and relay the outbox, and run sagas and the HTTP
        front door if those roles are on."""
        parts = [] if self.service is None else [self.service.run(stop)]
        if self.sagas is not None:
            parts.append(self.sagas.run(stop))
        if self.http is not None:
            parts.append(self.http.run(stop))
        await asyncio.gather(*parts)


def bootstrap(
    settings: Settings | None = None,
    uow_factory: UnitOfWorkFactory | None = None,
    roles: Collection[str] = DEFAULT_ROLES,
    catalog: Contexts | None = None,
) -> Worker:
    """Wire bus, relay, retention, saga starter, worker and front door. Connects to nothing
    (``run`` does) but binds the front door's port, so that a taken one fails here."""
    from datetime import timedelta

    from worker.bus.messagebus import MessageBus
    from worker.messaging.outbox_relay import OutboxRelay
    from worker.persistence.retention import RetentionSweeper
    from worker.persistence.unit_of_work import TortoiseUnitOfWorkFactory
    from worker.readside.command_relay import CommandRelay
    from worker.readside.runner import HandlerRunner
    from worker.sagas.client import TemporalConnection
    from worker.sagas.dispatcher import BusDispatcher
    from worker.sagas.ownership import RunOwnership
    from worker.sagas.retention import kept_steps
    from worker.sagas.runner import SagaRunner
    from worker.sagas.starter import starters
    from worker.service import WorkerService
    from worker.web.server import HttpServer

    settings = settings or Settings()
    catalog = catalog or contexts(settings)
    uow_factory = uow_factory or TortoiseUnitOfWorkFactory(catalog.aggregates, catalog.read_ports)
    temporal = TemporalConnection(settings, catalog.sagas)
    relay: OutboxRelay  # the bus wakes it; its saga starters dispatch through the bus
    bus = MessageBus(uow_factory, catalog.handlers, on_events_committed=lambda: relay.wake())
    dispatcher = BusDispatcher(bus, uow_factory, catalog.commands, ownership=RunOwnership(temporal))
    relay = OutboxRelay(
        batch_size=settings.outbox_batch_size,
        poll_interval=settings.outbox_poll_interval,
        is_postgres=not settings.is_sqlite,
        before_publish=starters(catalog.sagas, temporal, settings.task_queue_of, dispatcher),
        crash_after_publish=settings.test_crash_after_publish,
    )
    sagas = None
    if "sagas" in roles and catalog.sagas:
        sagas = SagaRunner(temporal, settings, catalog.sagas, dispatcher)
    retention = RetentionSweeper(
        inbox_retention=timedelta(days=settings.inbox_retention_days),
        outbox_retention=timedelta(hours=settings.outbox_retention_hours),
        interval=settings.retention_sweep_interval,
        batch_size=settings.retention_batch_size,
        kept_steps=kept_steps(catalog.sagas),
    )
    command_relay = CommandRelay(
        catalog.commands,
        batch_size=settings.outbox_batch_size,
        poll_interval=settings.outbox_poll_interval,
    )
    handlers = None
    if "handlers" in roles and catalog.subscriptions:
        handlers = HandlerRunner(
            catalog.subscriptions,
            on_commands=command_relay.wake,
            failing=settings.handler_fails,
            catch_up_after=settings.handler_catch_up_seconds,
        )
    # A process that only serves HTTP has nothing to consume or relay.
    service = (
        None
        if set(roles) == {"http"}
        else WorkerService(
            settings,
            bus,
            relay,
            catalog.commands,
            consume_commands="commands" in roles,
            retention=retention,
            handlers=handlers,
            command_relay=command_relay,
            handler_names=tuple(s.name for s in catalog.subscriptions),
        )
    )
    http = HttpServer(settings, catalog) if "http" in roles else None
    return Worker(settings, catalog, bus, relay, service, sagas, http)
