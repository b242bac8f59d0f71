"""The audit trail on SQLite and PostgreSQL: what is recorded, how it is found, ``audit list``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.e2e.harness import run_cli
from tests.integration.private_database import private_url
from worker.ops.audit_log import default_operator, list_actions, record_action

pytestmark = pytest.mark.integration
__all__ = ["private_url"]  # the fixture


@pytest.fixture(scope="module")
async def trail(private_url: str) -> str:
    """Five actions, oldest first, on a database of this module's own."""
    await record_action(
        "alice",
        "saga.retry",
        "t-1",
        "row repaired",
        {"state": "needs_operator"},
        {"state": "running"},
    )
    await record_action("bob", "saga.resolve", "t-2", "refunded by hand")
    await record_action("carol", "dlq.retry", "m-1", "bug fixed", {"body": {"amount": "1.00"}})
    await record_action("dan", "dlqx.other", "m-2", "not a dlq action")
    await record_action("erin", "dlq.purge", "m-1", "sent twice by the client")
    return private_url


async def test_a_recorded_action_keeps_who_what_why_and_the_states_as_json(trail: str) -> None:
    before = datetime.now(UTC)
    entry = await record_action(
        "frank", "saga.compensate", "t-9", "give up", {"amount": Decimal("4.50")}, ["a", 1]
    )
    [found] = await list_actions(limit=1)

    assert found == entry
    assert (entry.operator, entry.action, entry.target, entry.reason) == (
        "frank",
        "saga.compensate",
        "t-9",
        "give up",
    )
    assert (entry.before, entry.after) == ({"amount": "4.50"}, ["a", 1])
    assert before - timedelta(seconds=5) <= entry.at <= datetime.now(UTC) + timedelta(seconds=5)
    assert entry.to_json()["at"] == entry.at.isoformat()


async def test_actions_are_listed_newest_first_and_limited(trail: str) -> None:
    listed = await list_actions(limit=50)

    assert [e.operator for e in listed][-5:] == ["erin", "dan", "carol", "bob", "alice"]
    assert [e.operator for e in await list_actions(limit=2)][1:] == ["erin"]


async def test_an_action_prefix_matches_whole_dotted_parts(trail: str) -> None:
    dlq = await list_actions(action="dlq")

    assert [e.action for e in dlq] == ["dlq.purge", "dlq.retry"]
    assert [e.operator for e in await list_actions(action="saga.retry")] == ["alice"]
    assert [e.operator for e in await list_actions(action="dlq.")] == ["erin", "carol"]


async def test_actions_on_one_target_are_found_and_missing_states_stay_none(trail: str) -> None:
    on_m1 = await list_actions(target="m-1")
    [resolved] = await list_actions(target="t-2")

    assert [e.action for e in on_m1] == ["dlq.purge", "dlq.retry"]
    assert (resolved.before, resolved.after) == (None, None)


async def test_audit_list_prints_one_line_per_action_and_json_with_the_states(trail: str) -> None:
    env = {"DATABASE_URL": trail}
    table = run_cli(env, "audit", "list", "--action", "saga.retry")
    as_json = run_cli(env, "audit", "list", "--target", "m-1", "--limit", "1", "--json")

    assert table.returncode == 0, table.stderr
    [line] = table.stdout.splitlines()
    assert line.endswith(
        "alice        saga.retry       t-1                      row repaired  "
        "[state: needs_operator→running]"
    )
    assert as_json.returncode == 0, as_json.stderr
    [purge] = json.loads(as_json.stdout)
    assert {k: purge[k] for k in ("operator", "action", "target", "before", "after")} == {
        "operator": "erin",
        "action": "dlq.purge",
        "target": "m-1",
        "before": None,
        "after": None,
    }


def test_the_default_operator_is_the_user_running_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOGNAME", "grace")
    monkeypatch.setenv("USER", "grace")

    assert default_operator() == "grace"
