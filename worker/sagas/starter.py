"""Starts a saga from its starting event's outbox row: never twice, never lost, never
mistaken for another request's run."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from tortoise.context import _current_context as current_tortoise_context
from tortoise.context import get_current_context

from worker.persistence.models import OutboxRow
from worker.sagas.client import TemporalConnection
from worker.sagas.declaration import SagaDeclaration
from worker.sagas.identity import Origin, database_identity, foreign_run_reason, origin_of
from worker.sagas.inputs import original_input
from workflows.saga.types import SAGA_STATE, CommandDispatcher, SagaState

log = logging.getLogger("worker.sagas")
T = TypeVar("T")


async def _outside_transactions(work: Coroutine[Any, Any, T]) -> T:
    """``work`` with tortoise's connections but none of the caller's transactions.

    On PostgreSQL the relay calls its hooks inside its own transaction (tortoise keeps
    it in a context variable): a unit of work opened there is refused, and a write
    would be undone with it. A task of an empty context, given the same tortoise
    context, sees the pool itself.
    """
    tortoise = get_current_context()

    async def entered() -> T:
        if tortoise is not None:
            # What `with tortoise:` sets, set in this task's own empty context: entering
            # the one shared object from concurrent starts would mix up its reset tokens.
            current_tortoise_context.set(tortoise)
        return await work

    return await asyncio.create_task(entered(), context=contextvars.Context())


class SagaStarter:
    """The outbox relay calls it before publishing a saga's starting event.

    The row stays unsent until the start succeeded, so a crash or a Temporal
    outage only delays the saga. The workflow id is the business id and a second
    start reuses the running (or finished) run instead of making another, if that
    run was started for this request (its memo says so); a run of another request
    (a recreated or restored database) ends the record conflicted instead, once.
    """

    def __init__(
        self,
        saga: SagaDeclaration,
        temporal: TemporalConnection,
        task_queue: str,
        dispatcher: CommandDispatcher,
    ) -> None:
        self._saga = saga
        self._temporal = temporal
        self._task_queue = task_queue
        self._dispatcher = dispatcher
        self._database: str | None = None

    async def __call__(self, row: OutboxRow) -> None:
        saga_input = self._saga.start_input(json.loads(row.payload), row.correlation_id)
        if self._database is None:
            self._database = await _outside_transactions(database_identity())
        ours = Origin(self._database, row.event_id)
        client = await self._temporal.client()
        run = await start_saga(client, saga_input, self._task_queue, saga=self._saga, memo=ours)
        origin = await origin_of(run)
        if not await _started_for(client, self._saga, run, origin, ours, saga_input):
            await self._conflicted(saga_input, foreign_run_reason(run, origin, self._database), row)

    async def _conflicted(self, saga_input: BaseModel, reason: str, row: OutboxRow) -> None:
        business_id = self._saga.business_id(saga_input)
        command, fields = self._saga.conflict_command(business_id, reason)
        # Under the saga's reserved prefix: recorded once, however often the row is relayed.
        message_id = f"{self._saga.workflow_id(business_id)}/conflict/1"
        dispatched = self._dispatcher.dispatch(command, fields, message_id, row.correlation_id)
        result = await _outside_transactions(dispatched)
        if result.status != "accepted":
            # The row stays unsent (the relay tries again, and `check` counts the record as
            # waiting to start): publishing it would leave the record waiting for good.
            raise RuntimeError(
                f"{self._saga.kind} {business_id}: could not record the conflict "
                f"({result.error_code}: {result.error_message})"
            )
        log.warning("%s %s conflicted: %s", self._saga.kind, business_id, reason)


async def _started_for(
    client: Client,
    saga: SagaDeclaration,
    run: WorkflowExecutionDescription,
    origin: Origin,
    ours: Origin,
    saga_input: BaseModel,
) -> bool:
    """Whether ``run`` is this request's: by its memo, or else (older runs) by its input."""
    if origin.known:
        return origin.request == ours.request
    started_with = await original_input(client, saga, run.id, run.run_id)
    return bool(started_with == saga_input)


async def start_saga(
    client: Client,
    saga_input: BaseModel,
    task_queue: str,
    reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.REJECT_DUPLICATE,
    *,
    saga: SagaDeclaration,
    memo: Origin | None = None,
) -> WorkflowExecutionDescription:
    """Start ``saga``'s run for ``saga_input`` unless its id has one; describe the run."""
    business_id = saga.business_id(saga_input)
    workflow_id = saga.workflow_id(business_id)
    try:
        handle = await client.start_workflow(
            saga.workflow_name,
            saga_input,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=reuse,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SAGA_STATE, SagaState.RUNNING.value),
                    SearchAttributePair(saga.id_attribute, business_id),
                ]
            ),
            static_summary=saga.summary(saga_input),
            memo=None if memo is None else memo.memo(),
        )
        run_id = handle.result_run_id
    except WorkflowAlreadyStartedError as finished:
        # A finished run of this id raises it: the saga must not run again.
        run_id = finished.run_id
    return await client.get_workflow_handle(workflow_id, run_id=run_id).describe()


def starters(
    sagas: Sequence[SagaDeclaration],
    temporal: TemporalConnection,
    task_queue_of: Callable[[SagaDeclaration], str],
    dispatcher: CommandDispatcher,
) -> dict[str, Callable[[OutboxRow], Awaitable[None]]]:
    """The outbox relay's hooks, by starting event type: each saga that event starts,
    on its task queue (``task_queue_of``)."""
    by_event: defaultdict[str, list[SagaStarter]] = defaultdict(list)
    for saga in sagas:
        starter = SagaStarter(saga, temporal, task_queue_of(saga), dispatcher)
        by_event[saga.started_by].append(starter)

    def start_each(started: list[SagaStarter]) -> Callable[[OutboxRow], Awaitable[None]]:
        async def start(row: OutboxRow) -> None:
            for starter in started:
                await starter(row)

        return start

    return {event: start_each(started) for event, started in by_event.items()}
