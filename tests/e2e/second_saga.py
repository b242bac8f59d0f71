"""A second saga kind for the CLI's tests, loaded with ``EXTRA_CONTEXTS=tests.e2e.second_saga``.

Its workflow is never polled: the tests start runs of it and only look them up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import SearchAttributeKey

from domain.shared.model import DomainEvent
from worker.context import BoundedContext
from worker.sagas.declaration import SagaDeclaration, SagaRecord


@dataclass(frozen=True, kw_only=True)
class PayoutRequested(DomainEvent):
    aggregate_type: ClassVar[str] = "payouts"


class PayoutInput(BaseModel):
    payout_id: str


@workflow.defn(name="PayoutSaga")
class PayoutSaga:
    @workflow.run
    async def run(self, payout: PayoutInput) -> None:
        await workflow.wait_condition(lambda: False)


def _no_activities(dispatcher: Any) -> list[Any]:
    return []


PAYOUT = SagaDeclaration(
    kind="payout",
    workflow=PayoutSaga,
    workflow_name="PayoutSaga",
    activities=_no_activities,
    started_by="payouts.PayoutRequested",
    input_type=PayoutInput,
    start_input=lambda payload, correlation_id: PayoutInput(payout_id=payload["payout_id"]),
    business_id=lambda payout: str(payout.payout_id),
    summary=lambda payout: f"Payout {payout.payout_id}",
    id_attribute=SearchAttributeKey.for_keyword("PayoutId"),
    record=SagaRecord(table="payouts", ended=frozenset({"paid"})),
    conflict_command=lambda payout_id, reason: ("RecordPayoutOutcome", {"payout_id": payout_id}),
)
CONTEXT = BoundedContext(name="payouts", handlers={}, events=(PayoutRequested,), sagas=(PAYOUT,))
