"""Recorded saga histories still replay: the workflow code stays deterministic.

The histories come from ``python -m tests.workflows.record_histories``; those in
``histories/before_the_base`` were recorded once with the transfer saga as it was
before the saga base (commit 2d7a7c5), cancelled while a compensation or an
outcome was running: the base replays them through its patch (``SHIELD_PATCH``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.workflows.record_histories import HISTORIES, SCENARIOS, replay_workflow_id
from workflows.transfers.workflows import TransferSaga

RECORDED = sorted(HISTORIES.glob("*.json"))
BEFORE_THE_BASE = sorted((HISTORIES / "before_the_base").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(replay_workflow_id(path.stem), path.read_text())


async def histories(*paths: Path) -> AsyncIterator[WorkflowHistory]:
    for path in paths:
        yield load(path)


def test_every_scenario_of_the_recorder_has_a_recorded_history() -> None:
    assert sorted(path.stem for path in RECORDED) == sorted(SCENARIOS)


@pytest.mark.parametrize(
    "path", RECORDED + BEFORE_THE_BASE, ids=[path.stem for path in RECORDED + BEFORE_THE_BASE]
)
async def test_a_recorded_saga_replays_without_nondeterminism(path: Path) -> None:
    replayer = Replayer(workflows=[TransferSaga], data_converter=pydantic_data_converter)
    results = await replayer.replay_workflows(histories(path), raise_on_replay_failure=False)
    assert dict(results.replay_failures) == {}


def test_the_recorded_sagas_end_as_their_scenarios_say() -> None:
    last_events = {
        path.stem: json.loads(path.read_text())["events"][-1]["eventType"] for path in RECORDED
    }
    assert last_events == {
        "completed": "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED",
        "completed_after_a_retried_deposit": "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED",
        "rejected": "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED",
        "compensated": "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED",
        "needs_operator_retry_compensated": "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED",
        "needs_operator_resolved": "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED",
        "withdrawal_compensated_by_operator": "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED",
        "cancelled_while_waiting": "EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED",
        "cancelled_while_refunding": "EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED",
    }


def test_the_histories_from_before_the_base_are_the_shapes_its_patch_keeps() -> None:
    assert [path.stem for path in BEFORE_THE_BASE] == [
        "cancelled_while_recording_the_outcome",
        "cancelled_while_refunding",
        "cancelled_while_the_refund_waits",
    ]
    for path in BEFORE_THE_BASE:
        events = json.loads(path.read_text())["events"]
        kinds = {event["eventType"] for event in events}
        assert "EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED" in kinds
        assert "EVENT_TYPE_MARKER_RECORDED" not in kinds
