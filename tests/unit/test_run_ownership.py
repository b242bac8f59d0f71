"""A saga step is applied only for a run this database started (the run's memo says which)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from worker.sagas.identity import Origin
from worker.sagas.ownership import FOREIGN_RUN, RunOwnership


class Run:
    def __init__(self, memo: dict[str, Any]) -> None:
        self._memo = memo

    async def memo(self) -> dict[str, Any]:
        return self._memo


class Temporal:
    """The one call the guard makes: describe a run (counted)."""

    def __init__(self, memo: dict[str, Any]) -> None:
        self.memo, self.described = memo, 0

    async def client(self) -> Temporal:
        return self

    def get_workflow_handle(self, workflow_id: str, run_id: str) -> Temporal:
        return self

    async def describe(self) -> Run:
        self.described += 1
        return Run(self.memo)


async def ours() -> str:
    return "db-ours"


def in_activity_of(run_id: str) -> ActivityEnvironment:
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(
        environment.info, workflow_id="transfer-t-1", workflow_run_id=run_id
    )
    return environment


@pytest.mark.parametrize(
    "memo", [Origin("db-ours", "event-1").memo(), {}], ids=["this database's", "before memos"]
)
async def test_the_steps_of_a_run_this_database_started_are_applied(memo: dict[str, Any]) -> None:
    temporal = Temporal(memo)
    guard = RunOwnership(temporal, ours)  # type: ignore[arg-type]

    for _ in range(3):
        await in_activity_of("run-1").run(guard.require_ours)

    assert temporal.described == 1  # once per run, not per step


async def test_the_steps_of_a_run_another_database_started_are_refused_for_good() -> None:
    guard = RunOwnership(Temporal(Origin("db-gone", "event-9").memo()), ours)  # type: ignore[arg-type]

    with pytest.raises(ApplicationError) as refused:
        await in_activity_of("run-2").run(guard.require_ours)

    assert refused.value.type == FOREIGN_RUN
    assert refused.value.non_retryable
    assert "db-gone" in refused.value.message and "db-ours" in refused.value.message


async def test_outside_an_activity_there_is_no_run_to_check() -> None:
    temporal = Temporal(Origin("db-gone", "event-9").memo())

    await RunOwnership(temporal, ours).require_ours()  # type: ignore[arg-type]

    assert temporal.described == 0
