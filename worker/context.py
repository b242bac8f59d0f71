"""The plug point: what a bounded context declares, and the set of them the framework reads.

A context is one :class:`BoundedContext` value in its package's ``__init__``; the
composition root (``worker/bootstrap.py``) lists them, one line each. Everything
else (topology, consumer, unit of work, sagas, retention, ``check``, the CLI)
reads :class:`Contexts` and names no context.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from worker.bus.commands import Command
from worker.bus.messagebus import Handler
from worker.bus.registry import CommandRegistry

if TYPE_CHECKING:
    import typer

    from domain.shared.model import DomainEvent
    from worker.bus.unit_of_work import UnitOfWork
    from worker.ops.check.engine import Check
    from worker.persistence.store import AggregateStore
    from worker.readside.declarations import Subscription
    from worker.sagas.declaration import SagaDeclaration
    from worker.web.resources import Resource

#: A read port another context may ask the unit of work for: built on the same transaction.
ReadPortFactory = Callable[["UnitOfWork"], object]


@dataclass(frozen=True)
class BoundedContext:
    """Everything the framework needs to know about one bounded context.

    ``name`` names its queue (``<name>.commands``), its tortoise app and its CLI group.
    """

    name: str
    #: Each command the context handles, with its handler. A command marked
    #: ``internal`` is dispatched by sagas only and never read from AMQP.
    handlers: Mapping[type[Command], Handler]
    #: How each of its aggregates is stored (rows, mapper, child rows).
    aggregates: tuple[AggregateStore[Any], ...] = ()
    #: The events its aggregates record, published as ``<aggregate type>.<EventName>``.
    events: tuple[type[DomainEvent], ...] = ()
    #: The sagas it runs, each started by one of its events.
    sagas: tuple[SagaDeclaration, ...] = ()
    #: Its tortoise models module, and its migrations package (``None``: no tables).
    models: str | None = None
    migrations: str | None = None
    #: Read ports it publishes for other contexts, by the port's type.
    read_ports: Mapping[type[Any], ReadPortFactory] = field(default_factory=dict)
    #: Its reconciliation checks, run by ``check`` beside every other context's.
    checks: tuple[Check, ...] = ()
    #: Its CLI group (``python -m worker <name> ...``), built on demand.
    cli: Callable[[], typer.Typer] | None = None
    #: The CLI group's name when it is not the context's (the catalog's is ``products``).
    cli_name: str | None = None
    #: Its own settings, if any: a pydantic-settings class read from the environment
    #: (documented in the README's configuration table beside the worker's).
    settings: type[Any] | None = None
    #: Its event handlers: projections (read models) and policies (commands issued on
    #: events), each with its own queue ``<name>.events``.
    subscriptions: tuple[Subscription, ...] = ()
    #: What it serves read-only over HTTP (``GET`` routes of the front door).
    resources: tuple[Resource, ...] = ()

    def __post_init__(self) -> None:
        if (self.models is None) != (self.migrations is None):
            raise ContextConflict(
                f"context {self.name!r} declares {'models' if self.models else 'migrations'} "
                "without the other: its tables would never be created"
            )
        published = {event.type_name() for event in self.events}
        for saga in self.sagas:
            if saga.started_by not in published:
                raise ContextConflict(
                    f"saga {saga.kind!r} of context {self.name!r} is started by "
                    f"{saga.started_by!r}, which is not one of its events"
                )

    @property
    def cli_group(self) -> str:
        return self.cli_name or self.name

    @property
    def queue(self) -> str:
        """The queue its public commands arrive on."""
        return f"{self.name}.commands"


class ContextConflict(Exception):
    """A declaration contradicts itself, or two contexts declare the same name, command,
    event, aggregate, saga kind or read port."""


def _named(kind: type[Any]) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _unique(kind: str, names: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ContextConflict(f"two bounded contexts declare the {kind} {name!r}")
        seen.add(name)


def _tables(subscription: Subscription) -> Iterable[str]:
    return getattr(subscription, "tables", {}).keys()


class Contexts:
    """The contexts the composition root lists, read by every framework part."""

    def __init__(self, contexts: Iterable[BoundedContext]) -> None:
        self.all = tuple(contexts)
        _unique("context", (c.name for c in self.all))
        _unique("CLI group", (c.cli_group for c in self.all if c.cli is not None))
        _unique("command", (cmd.name() for c in self.all for cmd in c.handlers))
        _unique("saga kind", (s.kind for c in self.all for s in c.sagas))
        _unique("event", (e.type_name() for c in self.all for e in c.events))
        _unique("aggregate", (_named(s.aggregate) for c in self.all for s in c.aggregates))
        _unique("read port", (_named(port) for c in self.all for port in c.read_ports))
        _unique("event handler", (s.name for s in self.subscriptions))
        _unique("read-model table", (t for s in self.subscriptions for t in _tables(s)))
        _unique("HTTP resource", (r.path for c in self.all for r in c.resources))
        self.commands = CommandRegistry(
            {cmd: c.queue for c in self.all for cmd in c.handlers},
            saga_kinds=[s.kind for c in self.all for s in c.sagas],
        )

    @property
    def handlers(self) -> dict[type[Command], Handler]:
        return {cmd: handler for c in self.all for cmd, handler in c.handlers.items()}

    @property
    def aggregates(self) -> tuple[AggregateStore[Any], ...]:
        return tuple(store for c in self.all for store in c.aggregates)

    @property
    def sagas(self) -> tuple[SagaDeclaration, ...]:
        return tuple(saga for c in self.all for saga in c.sagas)

    @property
    def read_ports(self) -> dict[type[Any], ReadPortFactory]:
        return {port: make for c in self.all for port, make in c.read_ports.items()}

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return tuple(s for c in self.all for s in c.subscriptions)

    def subscription(self, name: str) -> Subscription:
        for s in self.subscriptions:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.subscriptions) or "none"
        raise KeyError(f"unknown event handler {name!r}; known: {known}")

    @property
    def resources(self) -> tuple[Resource, ...]:
        return tuple(r for c in self.all for r in c.resources)

    @property
    def checks(self) -> tuple[Check, ...]:
        return tuple(check for c in self.all for check in c.checks)

    @property
    def tortoise_apps(self) -> dict[str, tuple[str, str | None]]:
        """Each context with tables: its models module and migrations package, by name."""
        return {c.name: (c.models, c.migrations) for c in self.all if c.models is not None}

    def saga(self, kind: str) -> SagaDeclaration:
        """The saga of ``kind``, or the one saga of the context named ``kind`` (``orders``)."""
        for saga in self.sagas:
            if saga.kind == kind:
                return saga
        for context in self.all:
            if context.name == kind and len(context.sagas) == 1:
                return context.sagas[0]
        known = ", ".join(s.kind for s in self.sagas) or "none"
        raise KeyError(f"unknown saga kind {kind!r}; known: {known}")
