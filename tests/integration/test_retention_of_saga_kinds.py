"""Retention keeps the step rows of every live saga, whatever its kind (issue: defect 3).

A second saga kind, ``payout``, is declared here with a record table of its own; it
never runs on Temporal: retention reads only its declaration and its record.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio.common import SearchAttributeKey
from tortoise import connections

from tests.integration.conftest import Backend
from tests.wiring import CONTEXTS
from worker.persistence.models import InboxRow
from worker.persistence.retention import RetentionSweeper
from worker.sagas.declaration import SagaDeclaration, SagaRecord
from worker.sagas.retention import kept_steps

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True, scope="module"),
]

NOW = datetime(2001, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class PayoutInput(BaseModel):
    payout_id: str


def no_activities(dispatcher: Any) -> list[Any]:
    return []


PAYOUT = SagaDeclaration(
    kind="payout",
    workflow=object,
    workflow_name="PayoutSaga",
    activities=no_activities,
    started_by="payouts.PayoutRequested",
    input_type=PayoutInput,
    start_input=lambda payload, correlation_id: PayoutInput(payout_id=payload["payout_id"]),
    business_id=lambda payout: str(payout.payout_id),
    summary=lambda payout: f"Payout {payout.payout_id}",
    id_attribute=SearchAttributeKey.for_keyword("PayoutId"),
    record=SagaRecord(
        table="test_payouts", id_column="payout", state_column="stage", ended=frozenset({"paid"})
    ),
    conflict_command=lambda payout_id, reason: ("RecordPayoutOutcome", {"payout_id": payout_id}),
)


def sweeper() -> RetentionSweeper:
    return RetentionSweeper(
        inbox_retention=timedelta(days=7),
        outbox_retention=timedelta(hours=24),
        interval=300,
        batch_size=5000,
        kept_steps=kept_steps([*CONTEXTS.sagas, PAYOUT]),
    )


async def sql(statement: str, *values: str) -> None:
    db = connections.get("default")
    marks = [f"${n}" for n in range(1, len(values) + 1)]
    if db.capabilities.dialect != "postgres":
        marks = ["?"] * len(values)
    await db.execute_query(statement.format(*marks), list(values))


@pytest.fixture
async def tag(backend: Backend) -> AsyncIterator[str]:
    """A prefix for this test's rows, and the payouts' record table, gone afterwards."""
    await sql(
        "CREATE TABLE IF NOT EXISTS test_payouts (payout VARCHAR(64) PRIMARY KEY, stage TEXT)"
    )
    prefix = f"ret-{uuid.uuid4().hex[:8]}"
    yield prefix
    await InboxRow.filter(message_id__startswith=f"payout-{prefix}").delete()
    await sql("DROP TABLE test_payouts")


async def step(message_id: str, processed_at: datetime) -> None:
    await InboxRow.create(
        message_id=message_id, command="Pay", status="accepted", processed_at=processed_at
    )


async def test_a_second_kinds_step_rows_stay_until_its_record_ended(tag: str) -> None:
    waiting, ended, unknown = f"payout-{tag}-w", f"payout-{tag}-e", f"payout-{tag}-x"
    for saga in (waiting, ended, unknown):
        await step(f"{saga}/pay/1", NOW - 8 * DAY)
        await step(f"{saga}/confirm/1", NOW - 2 * DAY)
    await sql("INSERT INTO test_payouts (payout, stage) VALUES ({}, {})", f"{tag}-w", "waiting")
    await sql("INSERT INTO test_payouts (payout, stage) VALUES ({}, {})", f"{tag}-e", "paid")

    deleted = await sweeper().sweep_once(now=NOW)

    remaining = await InboxRow.filter(message_id__startswith=f"payout-{tag}").values_list(
        "message_id", flat=True
    )
    assert deleted == (1, 0)
    assert {str(message_id) for message_id in remaining} == {
        f"{waiting}/pay/1",
        f"{waiting}/confirm/1",
        f"{ended}/confirm/1",
        # No record says it ended (not written yet, or gone): its steps are kept too.
        f"{unknown}/pay/1",
        f"{unknown}/confirm/1",
    }
