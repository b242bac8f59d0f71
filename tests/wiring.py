"""The service's bounded contexts as the tests wire them (what the composition root lists)."""

from __future__ import annotations

from worker.bootstrap import contexts
from worker.config import Settings
from worker.persistence.unit_of_work import TortoiseUnitOfWorkFactory

CONTEXTS = contexts(Settings(extra_contexts=""))
HANDLERS = CONTEXTS.handlers
COMMANDS = CONTEXTS.commands
tortoise_uow_factory = TortoiseUnitOfWorkFactory(CONTEXTS.aggregates, CONTEXTS.read_ports)
