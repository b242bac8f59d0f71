"""The saga starter against a real Temporal: it adopts only runs started for its request.

Nothing polls the task queues used here, so the runs stay as started: what is looked
at is which run each start ends up with, and what the transfer's record says.
"""

from __future__ import annotations

import json
import uuid

import pytest
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus
from tortoise.transactions import in_transaction

from tests.integration.conftest import Backend
from tests.wiring import COMMANDS, CONTEXTS, HANDLERS, tortoise_uow_factory
from worker.bus.messagebus import MessageBus
from worker.config import Settings
from worker.contexts.transfers.persistence import TransferRow
from worker.persistence.models import OutboxRow
from worker.sagas.client import TemporalConnection
from worker.sagas.dispatcher import BusDispatcher
from worker.sagas.identity import MEMO_DATABASE, MEMO_REQUEST, Origin, database_identity
from worker.sagas.starter import SagaStarter, start_saga

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True, scope="module"),
]
SAGA = CONTEXTS.saga("transfer")


@pytest.fixture
def temporal(temporal_address: str) -> TemporalConnection:
    return TemporalConnection(Settings(temporal_address=temporal_address), CONTEXTS.sagas)


@pytest.fixture
def queue() -> str:
    return f"nobody-{uuid.uuid4().hex[:8]}"


def bus() -> BusDispatcher:
    return BusDispatcher(MessageBus(tortoise_uow_factory, HANDLERS), tortoise_uow_factory, COMMANDS)


async def requested(tid: str, amount: str = "4.50") -> OutboxRow:
    """TransferMoney through the bus; its TransferRequested outbox row."""
    fields = {
        "transfer_id": tid,
        "from_account_id": "alice",
        "to_account_id": "bob",
        "amount": amount,
        "currency": "EUR",
    }
    result = await bus().dispatch("TransferMoney", fields, f"m-{tid}", f"c-{tid}")
    assert result.status == "accepted", result
    row = await OutboxRow.get(event_type=SAGA.started_by, aggregate_id=tid)
    return row


def starter(temporal: TemporalConnection, queue: str) -> SagaStarter:
    return SagaStarter(SAGA, temporal, queue, bus())


async def latest_run(client: Client, tid: str) -> WorkflowExecutionDescription:
    return await client.get_workflow_handle(f"transfer-{tid}").describe()


async def conflicted_events(tid: str) -> list[str]:
    rows = OutboxRow.filter(aggregate_id=tid, event_type="transfers.TransferConflicted")
    return [json.loads(row.payload)["reason"] for row in await rows]


async def test_starting_twice_for_one_request_keeps_its_one_run_and_marks_who_started_it(
    backend: Backend, temporal: TemporalConnection, queue: str
) -> None:
    tid = f"t-{uuid.uuid4().hex[:8]}"
    row = await requested(tid)

    await starter(temporal, queue)(row)
    await starter(temporal, queue)(row)

    run = await latest_run(await temporal.client(), tid)
    assert run.status == WorkflowExecutionStatus.RUNNING
    assert await run.memo() == {
        MEMO_DATABASE: await database_identity(),
        MEMO_REQUEST: row.event_id,
    }
    assert (await TransferRow.get(id=tid)).state == "requested"


async def test_a_run_of_another_database_ends_the_transfer_conflicted_once_naming_it(
    backend: Backend, temporal: TemporalConnection, queue: str
) -> None:
    tid = f"t-{uuid.uuid4().hex[:8]}"
    client = await temporal.client()
    other = SAGA.start_input(
        {"transfer_id": tid, "from_account_id": "alice", "to_account_id": "bob",
         "amount": "4.50", "currency": "EUR"}, "elsewhere",
    )  # fmt: skip
    theirs = await start_saga(client, other, queue, saga=SAGA, memo=Origin("0ther", "e-1"))
    row = await requested(tid)

    await starter(temporal, queue)(row)
    await starter(temporal, queue)(row)

    transfer = await TransferRow.get(id=tid)
    assert transfer.state == "conflicted"
    assert transfer.reason.startswith(
        f"workflow transfer-{tid} belongs to another request: run {theirs.run_id}, started "
    )
    assert "by database 0ther (this one is " in transfer.reason
    assert await conflicted_events(tid) == [transfer.reason]
    assert (await latest_run(client, tid)).run_id == theirs.run_id


async def test_a_run_from_before_memos_is_this_requests_only_if_started_with_its_input(
    backend: Backend, temporal: TemporalConnection, queue: str
) -> None:
    same, other = f"t-{uuid.uuid4().hex[:8]}", f"t-{uuid.uuid4().hex[:8]}"
    client = await temporal.client()
    rows = {tid: await requested(tid) for tid in (same, other)}
    for tid, amount in ((same, "4.50"), (other, "9.00")):
        payload = {**json.loads(rows[tid].payload), "amount": amount}
        older = SAGA.start_input(payload, rows[tid].correlation_id)
        await start_saga(client, older, queue, saga=SAGA)  # as the last release did: no memo

    for row in rows.values():
        await starter(temporal, queue)(row)

    assert (await TransferRow.get(id=same)).state == "requested"
    mismatch = await TransferRow.get(id=other)
    assert mismatch.state == "conflicted"
    assert "from before saga memos, with another input" in mismatch.reason


async def test_a_conflict_is_recorded_even_from_inside_the_relays_transaction(
    backend: Backend, temporal: TemporalConnection, queue: str
) -> None:
    """On PostgreSQL the relay runs its hooks in its transaction (FOR UPDATE on the rows)."""
    if backend.name == "sqlite":
        pytest.skip("on SQLite the relay holds no transaction (one process owns the file)")
    tid = f"t-{uuid.uuid4().hex[:8]}"
    client = await temporal.client()
    row = await requested(tid)
    payload = {**json.loads(row.payload), "amount": "1.00"}
    await start_saga(client, SAGA.start_input(payload, None), queue, saga=SAGA)

    async with in_transaction():
        await starter(temporal, queue)(row)

    assert (await TransferRow.get(id=tid)).state == "conflicted"
