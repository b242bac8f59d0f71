"""What a context may declare to follow events, and how ``projections list`` names a state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from worker.context import BoundedContext, ContextConflict, Contexts
from worker.messaging.topology import handler_queue
from worker.readside.cli import state_of
from worker.readside.declarations import LoggedEvent, Policy, Projection
from worker.readside.progress import Standing


async def nothing(event: LoggedEvent, model: object) -> None:
    pass


def projection(name: str, table: str = "t") -> Projection:
    return Projection(
        name=name,
        events=("a.Happened",),
        tables={table: ("CREATE TABLE {table} (x TEXT)",)},
        apply=nothing,  # type: ignore[arg-type]
    )


def context(name: str, *subscriptions: Any) -> BoundedContext:
    return BoundedContext(name=name, handlers={}, subscriptions=subscriptions)


def test_a_handler_s_queue_is_its_name_dot_events() -> None:
    assert handler_queue("account_statement") == "account_statement.events"


@pytest.mark.parametrize("name", ["", "Account", "with-dash", "with space"])
def test_a_handler_s_name_is_lower_snake_case(name: str) -> None:
    with pytest.raises(ValueError, match="lower_snake_case"):
        projection(name)


def test_a_handler_must_subscribe_to_some_event() -> None:
    with pytest.raises(ValueError, match="subscribes to no event"):
        Policy(name="p", events=(), decide=lambda event: [])


def test_a_policy_s_message_ids_are_derived_from_it_and_the_event() -> None:
    policy = Policy(name="thank_you", events=("a.Happened",), decide=lambda event: [])
    assert policy.message_id("ev-1", 0) == "policy-thank_you/ev-1/0"


def test_two_contexts_cannot_declare_handlers_of_one_name() -> None:
    with pytest.raises(ContextConflict, match="event handler 'same'"):
        Contexts(
            [context("one", projection("same", "t1")), context("two", projection("same", "t2"))]
        )


def test_two_projections_cannot_own_one_table() -> None:
    with pytest.raises(ContextConflict, match="read-model table 'shared'"):
        Contexts(
            [context("one", projection("p1", "shared")), context("two", projection("p2", "shared"))]
        )


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def standing(lag: int = 0, **row: Any) -> Standing:
    return Standing("h", "projection", 5, 5 + lag, lag, 0.0, None, {"seen_at": NOW, **row})


@pytest.mark.parametrize(
    ("where", "state"),
    [
        (standing(), "live"),
        (standing(lag=3), "catching_up"),
        (standing(seen_at=NOW - timedelta(seconds=11)), "stopped"),
        (standing(seen_at=None), "stopped"),
        (standing(last_error_at=NOW, last_applied_at=NOW - timedelta(seconds=1)), "failing"),
        (standing(last_error_at=NOW - timedelta(seconds=1), last_applied_at=NOW), "live"),
        (standing(rebuild_owner="host:1"), "rebuilding"),
    ],
)
def test_the_state_a_handler_is_listed_in(where: Standing, state: str) -> None:
    assert state_of(where, NOW) == state
