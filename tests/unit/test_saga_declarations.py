"""The framework reads each saga's declaration: kinds, activities, queries, the record."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel
from temporalio import activity
from temporalio.common import SearchAttributeKey

from domain.shared.model import DomainEvent
from tests.wiring import CONTEXTS
from worker.bus.message_ids import IdProblem
from worker.config import Settings
from worker.context import BoundedContext, ContextConflict, Contexts
from worker.ops.sagas import view_lines
from worker.sagas.client import search_attributes
from worker.sagas.control import SagaSummary, visibility_query
from worker.sagas.declaration import SagaDeclaration, SagaRecord
from worker.sagas.records import RecordState
from worker.sagas.registration import DuplicateActivity, activities_of
from worker.sagas.settling import SagaView
from worker.sagas.starter import starters

TRANSFER = CONTEXTS.saga("transfer")


@dataclass(frozen=True, kw_only=True)
class PayoutRequested(DomainEvent):
    aggregate_type: ClassVar[str] = "payouts"


class PayoutInput(BaseModel):
    payout_id: str


@activity.defn(name="withdraw")
async def withdraw_too(step: Any) -> None:
    """Named like the transfer saga's own withdrawal."""


def payout(**changes: Any) -> SagaDeclaration:
    declared = SagaDeclaration(
        kind="payout",
        workflow=object,
        workflow_name="PayoutSaga",
        activities=lambda dispatcher: [],
        started_by="payouts.PayoutRequested",
        input_type=PayoutInput,
        start_input=lambda payload, correlation_id: PayoutInput(payout_id=payload["payout_id"]),
        business_id=lambda saga_input: str(saga_input.payout_id),
        summary=lambda saga_input: f"Payout {saga_input.payout_id}",
        id_attribute=SearchAttributeKey.for_keyword("PayoutId"),
        record=SagaRecord(table="payouts", ended=frozenset({"paid"})),
        conflict_command=lambda payout_id, reason: ("RecordPayoutOutcome", {"id": payout_id}),
    )
    return dataclasses.replace(declared, **changes)


@pytest.mark.parametrize("kind", ["pay-out", "pay_out", "Payout", "pay%", ""])
def test_a_kind_that_would_make_ids_or_like_patterns_ambiguous_is_refused(kind: str) -> None:
    with pytest.raises(ValueError, match="does not match"):
        payout(kind=kind)


def test_two_sagas_declaring_one_activity_name_are_refused_naming_both() -> None:
    shared = payout(activities=lambda dispatcher: [withdraw_too])

    with pytest.raises(DuplicateActivity, match="transfer and payout sagas both declare an act"):
        activities_of([TRANSFER, shared], dispatcher=object())  # type: ignore[arg-type]


def test_the_search_attributes_are_the_saga_state_and_each_kinds_id() -> None:
    names = [key.name for key in search_attributes([TRANSFER, payout(), TRANSFER])]

    assert names == ["SagaState", "TransferId", "PayoutId"]


def test_a_visibility_query_selects_the_kinds_workflow_type() -> None:
    assert visibility_query(payout(), "needs_operator") == (
        "WorkflowType = 'PayoutSaga' AND SagaState = 'needs_operator'"
    )
    assert visibility_query(TRANSFER, None) == "WorkflowType = 'TransferSaga'"


def test_each_starting_event_gets_one_hook_that_starts_every_saga_it_starts() -> None:
    hooks = starters(
        [TRANSFER, payout(), payout(kind="refund")],
        temporal=object(),  # type: ignore[arg-type]
        task_queue_of=lambda saga: "q",
        dispatcher=object(),  # type: ignore[arg-type]
    )

    assert set(hooks) == {"transfers.TransferRequested", "payouts.PayoutRequested"}


def test_the_contexts_reserve_the_message_ids_of_every_kind() -> None:
    context = BoundedContext(
        name="payouts", handlers={}, events=(PayoutRequested,), sagas=(payout(),)
    )
    catalog = Contexts([*CONTEXTS.all, context])

    assert catalog.saga("payout").workflow_id("p-1") == "payout-p-1"
    with pytest.raises(IdProblem, match="payout-<id>/<step>/"):
        catalog.commands.check_message_id("payout-p-1/pay/1")


def summary(state: str) -> SagaSummary:
    started = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    return SagaSummary("transfer", "t-1", "transfer_id", state, state, started, "transfer-t-1")


def test_a_conflicted_record_shows_its_own_state_first_never_the_other_runs() -> None:
    record = RecordState("conflicted", "workflow transfer-t-1 belongs to another request: ...")
    view = SagaView(record, summary("completed"), None, ours=False)

    lines = view_lines(TRANSFER, "t-1", view)

    assert lines[0] == "transfer t-1: conflicted (not run)"
    assert lines[1] == f"reason: {record.reason}"
    assert lines[2].startswith("another request's run has the id: transfer-t-1 completed")


def test_a_run_that_is_the_records_own_shows_as_it_always_did() -> None:
    view = SagaView(RecordState("completed", ""), summary("completed"), None, ours=True)

    assert view_lines(TRANSFER, "t-1", view) == ["transfer t-1: completed (completed)"]


def test_a_saga_started_by_an_event_its_context_does_not_publish_is_refused() -> None:
    with pytest.raises(ContextConflict, match="not one of its events"):
        BoundedContext(name="payouts", handlers={}, sagas=(payout(),))


def test_tables_without_migrations_are_refused_at_declaration() -> None:
    with pytest.raises(ContextConflict, match="without the other"):
        BoundedContext(name="pings", handlers={}, models="pings.persistence")


def test_two_contexts_storing_one_aggregate_are_refused() -> None:
    store = CONTEXTS.aggregates[0]
    twice = [BoundedContext(name=name, handlers={}, aggregates=(store,)) for name in ("a", "b")]

    with pytest.raises(ContextConflict, match="aggregate"):
        Contexts(twice)


def test_a_saga_runs_on_its_own_task_queue_after_the_prefix_or_on_the_shared_one() -> None:
    settings = Settings(temporal_task_queue="shared", temporal_task_queue_prefix="eu-")

    assert settings.task_queue_of(CONTEXTS.saga("order")) == "eu-orders"
    assert settings.task_queue_of(CONTEXTS.saga("transfer")) == "shared"
    assert settings.task_queue_of(payout(task_queue="payouts")) == "eu-payouts"


def test_a_saga_kind_can_be_named_by_its_contexts_name() -> None:
    assert CONTEXTS.saga("orders") is CONTEXTS.saga("order")
    assert CONTEXTS.saga("transfers").kind == "transfer"
    with pytest.raises(KeyError, match="unknown saga kind 'customers'"):
        CONTEXTS.saga("customers")  # a context without a saga


def test_contexts_refuse_two_cli_groups_of_one_name() -> None:
    products = BoundedContext(name="goods", handlers={}, cli=lambda: None, cli_name="products")  # type: ignore[arg-type,return-value]

    with pytest.raises(ContextConflict, match="CLI group 'products'"):
        Contexts([*CONTEXTS.all, products])
