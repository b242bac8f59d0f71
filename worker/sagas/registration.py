"""One Temporal worker for every declared saga: their workflows and activities together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from worker.sagas.declaration import SagaDeclaration
from workflows.saga.types import CommandDispatcher


class DuplicateActivity(Exception):
    """Two sagas declare activities of one name: a task of that name would go to either."""


def activities_of(
    sagas: Sequence[SagaDeclaration], dispatcher: CommandDispatcher
) -> list[Callable[..., Any]]:
    """Every saga's activities on ``dispatcher``; :class:`DuplicateActivity` on a shared name."""
    owners: dict[str, str] = {}
    found: list[Callable[..., Any]] = []
    for saga in sagas:
        for function in saga.activities(dispatcher):
            name = activity._Definition.must_from_callable(function).name or "(dynamic)"
            if name in owners:
                raise DuplicateActivity(
                    f"the {owners[name]} and {saga.kind} sagas both declare an activity "
                    f"named {name!r}: activity names are shared by the one task queue"
                )
            owners[name] = saga.kind
            found.append(function)
    return found


def build_worker(
    client: Client,
    task_queue: str,
    sagas: Sequence[SagaDeclaration],
    dispatcher: CommandDispatcher,
    graceful_shutdown: timedelta = timedelta(seconds=30),
) -> Worker:
    """A worker polling ``task_queue`` for every saga's workflow and activities."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[saga.workflow for saga in sagas],
        activities=activities_of(sagas, dispatcher),
        # Without it, completions of activities still running at shutdown are dropped.
        graceful_shutdown_timeout=graceful_shutdown,
    )
