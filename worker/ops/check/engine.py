"""The check engine: runs every context's reconciliation checks over one snapshot.

A check works in two steps. :meth:`Check.read` runs inside the one snapshot
transaction the engine opens for all of them (REPEATABLE READ READ ONLY on
PostgreSQL; SQLite's read transaction is a snapshot too), so a worker still
running cannot make what one check reads disagree with what another reads.
:meth:`Reading.judge` runs once that transaction is closed: it may ask the saga
machinery whether a run is alive, and re-read a row afresh (a saga that looks
closed may have ended its work since the snapshot). The engine names no context:
it runs what the declarations list (``Contexts.checks``) and merges the results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

from tortoise.backends.base.client import BaseDBAsyncClient

from worker.ops.check.facts import Violation
from worker.ops.check.report import CheckConflict, Report


class Progress(Protocol):
    """Where a long read reports how far it got (a progress bar, or nothing)."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


class NoProgress:
    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


class SagasUnreachable(Exception):
    """The saga machinery cannot be asked: a check then reports its sagas as not checked."""


class SagaLiveness(Protocol):
    """Asks the saga machinery how a run stands, by workflow id (``<kind>-<business id>``)."""

    async def execution(self, workflow_id: str) -> str | None:
        """Its status (``running``, ``completed``, ``terminated``...), None when there is none.

        Raises :class:`SagasUnreachable` when the machinery cannot be asked.
        """
        ...


@dataclass(frozen=True)
class Snapshot:
    """What a check reads from: a connection inside the one snapshot transaction."""

    db: BaseDBAsyncClient
    progress: Progress


@dataclass(frozen=True)
class Afterwards:
    """What a check judges with, once the snapshot is closed."""

    #: None when sagas are not checked (``check --skip-sagas``).
    sagas: SagaLiveness | None
    progress: Progress


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict: its violations, and what it counted."""

    violations: list[Violation] = field(default_factory=list)
    #: JSON-ready values, each under its own key of ``check --json`` (keys are unique
    #: across checks: a new check puts its figures under one key, its name).
    figures: dict[str, object] = field(default_factory=dict)
    #: Its part of the summary line (``books: 3 entries checked``); empty for none.
    summary: str = ""


class Reading(Protocol):
    """What a check read inside the snapshot, waiting to be judged."""

    async def judge(self, afterwards: Afterwards) -> CheckResult: ...


class Check(Protocol):
    """One context's reconciliation check, declared in ``BoundedContext.checks``."""

    @property
    def name(self) -> str: ...

    async def read(self, snapshot: Snapshot) -> Reading: ...


@dataclass(frozen=True)
class Judged:
    """A reading judged already: for a check that needs nothing after the snapshot."""

    result: CheckResult

    async def judge(self, afterwards: Afterwards) -> CheckResult:
        return self.result


OpenSnapshot = Callable[[], AbstractAsyncContextManager[BaseDBAsyncClient]]


async def run_checks(
    checks: Sequence[Check],
    open_snapshot: OpenSnapshot,
    sagas: SagaLiveness | None,
    progress: Progress | None = None,
) -> Report:
    """Read every check in one snapshot, then judge each, in the order declared."""
    names = [check.name for check in checks]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise CheckConflict(f"two checks are named {', '.join(map(repr, twice))}")
    progress = progress or NoProgress()
    async with open_snapshot() as db:
        readings = [await check.read(Snapshot(db, progress)) for check in checks]
    afterwards = Afterwards(sagas, progress)
    return Report.merge([await reading.judge(afterwards) for reading in readings])
