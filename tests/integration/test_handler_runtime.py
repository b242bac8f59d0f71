"""The handler runtime on SQLite and PostgreSQL: each event applied once per handler, each
aggregate's in version order, a policy's commands issued once, and the figures that say
how far a handler has come."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from tortoise import connections

from tests.integration.context_storage import database_fixture
from tests.integration.readside_support import (
    TallyKind,
    alerting_policy,
    commit_outbox,
    entries,
    entries_projection,
    log_everything,
    logged,
    outbox_row,
    tally_kind,
    unique,
)
from tests.wiring import CONTEXTS
from worker.persistence.read_side import CommandOutboxRow, HandledEventRow, ProjectionCursorRow
from worker.readside.applying import Applied, HandlerRuntime, UnknownEvent
from worker.readside.declarations import LoggedEvent, Projection
from worker.readside.keeper import HandlerKeeper
from worker.readside.progress import position_caused_by, standing, wait_until_applied
from worker.readside.runner import prepare_read_side

pytestmark = pytest.mark.integration

runtime_database = database_fixture("runtime", CONTEXTS)


@pytest.fixture
async def kind(runtime_database: str) -> TallyKind:
    """An aggregate type of the test's own, on the module's database."""
    await log_everything()
    return tally_kind()


async def prepared(projection: Projection) -> Projection:
    await prepare_read_side([projection])
    return projection


async def tallies(kind: TallyKind, tally_id: str, versions: int) -> list[LoggedEvent]:
    """Versions 1..n of one tally, logged."""
    return await logged([outbox_row(kind.tallied, tally_id, v) for v in range(1, versions + 1)])


def in_order(events: list[LoggedEvent]) -> list[tuple[str, int, int, str]]:
    """The rows of an entries projection that got ``events`` one by one, in version order."""
    ordered = sorted(events, key=lambda e: (e.aggregate_id, e.aggregate_version))
    seqs: dict[str, int] = {}
    rows = []
    for event in ordered:
        seqs[event.aggregate_id] = seqs.get(event.aggregate_id, 0) + 1
        rows.append(
            (event.aggregate_id, seqs[event.aggregate_id], event.aggregate_version, event.event_id)
        )
    return rows


async def test_an_event_applied_twice_changes_the_read_model_once(kind: TallyKind) -> None:
    projection = await prepared(entries_projection(unique("entries"), [kind.tallied]))
    [event] = await tallies(kind, "t-1", 1)
    runtime = HandlerRuntime(projection)

    assert await runtime.apply(event.event_id) is Applied.APPLIED
    assert await runtime.apply(event.event_id) is Applied.DUPLICATE
    assert await entries(projection) == in_order([event])


async def test_events_delivered_out_of_order_give_the_rows_of_version_order(
    kind: TallyKind,
) -> None:
    projection = await prepared(entries_projection(unique("entries"), [kind.tallied]))
    events = await tallies(kind, "t-1", 3)
    runtime = HandlerRuntime(projection)

    assert await runtime.apply(events[2].event_id) is Applied.APPLIED
    assert await runtime.apply(events[1].event_id) is Applied.DUPLICATE
    assert await runtime.apply(events[0].event_id) is Applied.DUPLICATE
    assert await entries(projection) == in_order(events)
    handled = {row.event_id for row in await HandledEventRow.filter(handler=projection.name)}
    assert handled == {e.event_id for e in events}, "the gap it filled is recorded as handled"


async def test_an_event_of_a_type_it_does_not_take_in_the_gap_is_passed_over(
    kind: TallyKind,
) -> None:
    projection = await prepared(entries_projection(unique("entries"), [kind.tallied]))
    first, _, third = await logged(
        [
            outbox_row(kind.tallied, "t-1", 1),
            outbox_row(kind.reset, "t-1", 2),
            outbox_row(kind.tallied, "t-1", 3),
        ]
    )

    assert await HandlerRuntime(projection).apply(third.event_id) is Applied.APPLIED
    assert await entries(projection) == [
        ("t-1", 1, 1, first.event_id),
        ("t-1", 2, 3, third.event_id),
    ]


async def test_an_event_id_not_in_the_log_is_an_unknown_event(kind: TallyKind) -> None:
    projection = await prepared(entries_projection(unique("entries"), [kind.tallied]))

    with pytest.raises(UnknownEvent) as raised:
        await HandlerRuntime(projection).apply("7c1d1f3e-0000-4000-8000-000000000000")
    assert raised.value.code == "unknown_event"


async def test_an_event_of_a_type_the_handler_does_not_take_is_not_subscribed(
    kind: TallyKind,
) -> None:
    projection = await prepared(entries_projection(unique("entries"), [kind.tallied]))
    [reset] = await logged([outbox_row(kind.reset, "t-1", 1)])

    with pytest.raises(UnknownEvent) as raised:
        await HandlerRuntime(projection).apply(reset.event_id)
    assert raised.value.code == "not_subscribed"
    assert await entries(projection) == []


async def test_two_handlers_of_one_event_both_apply_it(kind: TallyKind) -> None:
    one = await prepared(entries_projection(unique("entries"), [kind.tallied]))
    other = await prepared(entries_projection(unique("entries"), [kind.tallied]))
    [event] = await tallies(kind, "t-1", 1)

    assert await HandlerRuntime(one).apply(event.event_id) is Applied.APPLIED
    assert await HandlerRuntime(other).apply(event.event_id) is Applied.APPLIED
    assert await entries(one) == await entries(other) == in_order([event])


async def test_a_failing_apply_leaves_nothing_behind_and_applies_once_it_works(
    kind: TallyKind,
) -> None:
    fails_on = {2}
    projection = await prepared(
        entries_projection(unique("entries"), [kind.tallied], fails_on=fails_on)
    )
    events = await logged([outbox_row(kind.tallied, "t-1", v, amount=v) for v in (1, 2)])
    runtime = HandlerRuntime(projection)

    with pytest.raises(RuntimeError):
        await runtime.apply(events[1].event_id)
    assert await entries(projection) == []
    assert not await HandledEventRow.filter(handler=projection.name).exists()
    fails_on.clear()

    assert await runtime.apply(events[1].event_id) is Applied.APPLIED
    assert await entries(projection) == in_order(events)
    cursor = await ProjectionCursorRow.get(handler=f"{projection.name}@1", aggregate_id="t-1")
    assert cursor.version == 2


async def test_a_policy_issues_each_decided_command_once_under_its_own_message_ids(
    kind: TallyKind,
) -> None:
    policy = alerting_policy(unique("alerts"), [kind.tallied])
    await prepare_read_side([policy])
    [event] = await tallies(kind, "t-1", 1)
    woken: list[None] = []
    runtime = HandlerRuntime(policy, on_commands=lambda: woken.append(None))

    assert await runtime.apply(event.event_id) is Applied.APPLIED
    assert await runtime.apply(event.event_id) is Applied.DUPLICATE

    issued = await CommandOutboxRow.filter(causation_id=event.event_id).order_by("id")
    assert [row.message_id for row in issued] == [
        f"policy-{policy.name}/{event.event_id}/0",
        f"policy-{policy.name}/{event.event_id}/1",
    ]
    assert [row.command for row in issued] == ["RaiseAlert", "RaiseAlert"]
    assert issued[0].body == '{"tally_id":"t-1","level":1}'
    assert issued[0].correlation_id == "corr-readside"
    assert all(row.sent_at is None for row in issued)
    assert len(woken) == 1, "the command relay is woken once, for the new commands"


async def test_a_policy_never_fires_for_an_event_logged_before_it_first_started(
    kind: TallyKind,
) -> None:
    [before] = await tallies(kind, "t-1", 1)
    policy = alerting_policy(unique("alerts"), [kind.tallied])
    await prepare_read_side([policy])
    [after] = await logged([outbox_row(kind.tallied, "t-1", 2)])
    runtime = HandlerRuntime(policy)

    assert await runtime.apply(before.event_id) is Applied.BEFORE_START
    assert await runtime.apply(after.event_id) is Applied.APPLIED
    assert not await CommandOutboxRow.filter(causation_id=before.event_id).exists()
    assert await CommandOutboxRow.filter(causation_id=after.event_id).count() == 2
    await prepare_read_side([policy])
    [later] = await logged([outbox_row(kind.tallied, "t-1", 3)])
    assert await runtime.apply(later.event_id) is Applied.APPLIED, "a restart keeps its start"


async def test_a_policy_starts_after_events_committed_but_not_logged_yet(kind: TallyKind) -> None:
    """An upgraded database's old outbox rows, or events that waited while no relay ran:
    they are logged before the policy takes the head as its start."""
    waiting = outbox_row(kind.tallied, "t-9", 1)
    await commit_outbox([waiting])
    policy = alerting_policy(unique("alerts"), [kind.tallied])

    await prepare_read_side([policy])

    assert await HandlerRuntime(policy).apply(waiting["event_id"]) is Applied.BEFORE_START
    assert not await CommandOutboxRow.filter(causation_id=waiting["event_id"]).exists()


async def test_the_standing_follows_what_was_applied_and_never_passes_an_unapplied_event(
    kind: TallyKind,
) -> None:
    projection = await prepared(entries_projection(unique("entries"), [kind.tallied]))
    a_minute_ago = datetime.now(UTC) - timedelta(minutes=1)
    a1, b1, a2 = await logged(
        [
            outbox_row(kind.tallied, "a", 1, a_minute_ago),
            outbox_row(kind.tallied, "b", 1, a_minute_ago),
            outbox_row(kind.tallied, "a", 2, a_minute_ago),
        ]
    )
    db = connections.get("default")
    runtime = HandlerRuntime(projection)

    waiting = await standing(db, projection)
    assert (waiting.position, waiting.lag_events, waiting.next_position) == (
        a1.position - 1,
        3,
        a1.position,
    )
    assert waiting.lag_seconds >= 60
    await runtime.apply(b1.event_id)
    behind_a1 = await standing(db, projection)
    assert (behind_a1.position, behind_a1.lag_events) == (a1.position - 1, 2)
    await runtime.apply(a1.event_id)
    behind_a2 = await standing(db, projection)
    assert (behind_a2.position, behind_a2.lag_events) == (a2.position - 1, 1)
    await runtime.apply(a2.event_id)
    done = await standing(db, projection)
    assert (done.position, done.head, done.lag_events, done.lag_seconds) == (
        done.head,
        a2.position,
        0,
        0.0,
    )
    assert done.next_position is None


async def test_waiting_until_applied_is_true_once_applied_and_false_on_timeout(
    kind: TallyKind,
) -> None:
    projection = await prepared(entries_projection(unique("entries"), [kind.tallied]))
    [event] = await tallies(kind, "t-1", 1)

    assert not await wait_until_applied(projection, event.position, 0.2)
    waiting = asyncio.create_task(wait_until_applied(projection, event.position, 10))
    await asyncio.sleep(0.1)
    await HandlerRuntime(projection).apply(event.event_id)
    assert await waiting


async def test_a_command_s_own_write_is_read_by_the_position_of_the_events_it_caused(
    kind: TallyKind,
) -> None:
    projection = await prepared(entries_projection(unique("entries"), [kind.tallied]))
    [event] = await tallies(kind, "t-1", 1)
    db = connections.get("default")

    position = await position_caused_by(db, event.causation_id or "")
    assert position == event.position
    assert await position_caused_by(db, "a command that caused nothing") is None
    await HandlerRuntime(projection).apply(event.event_id)
    assert await wait_until_applied(projection, position, 1)


async def test_the_keeper_applies_from_the_log_an_event_no_delivery_brought(
    kind: TallyKind,
) -> None:
    projection = await prepared(entries_projection(unique("entries"), [kind.tallied]))
    events = await tallies(kind, "t-1", 2)
    keeper = HandlerKeeper(HandlerRuntime(projection), catch_up_after=0.0)

    assert await keeper.tick() == 2
    assert await entries(projection) == in_order(events)
    assert await keeper.tick() == 0
    assert (await standing(connections.get("default"), projection)).lag_events == 0


async def test_concurrent_applies_of_one_aggregate_in_any_order_give_the_rows_of_version_order(
    kind: TallyKind, runtime_database: str
) -> None:
    if runtime_database.startswith("sqlite"):
        pytest.skip("one SQLite file has one writer: no two transactions overlap")
    projection = await prepared(entries_projection(unique("entries"), [kind.tallied]))
    events = await tallies(kind, "t-1", 20)
    shuffled = random.sample(events, len(events))

    results = await asyncio.gather(
        *(HandlerRuntime(projection).apply(event.event_id) for event in shuffled)
    )

    assert await entries(projection) == in_order(events)
    assert Applied.APPLIED in results and set(results) <= {Applied.APPLIED, Applied.DUPLICATE}


async def test_concurrent_applies_of_many_aggregates_by_one_runtime_all_apply(
    kind: TallyKind,
) -> None:
    """What one consumer does with a prefetch of many: each aggregate in a task of its own."""
    projection = await prepared(entries_projection(unique("entries"), [kind.tallied]))
    events = await logged([outbox_row(kind.tallied, f"t-{n}", 1) for n in range(20)])
    runtime = HandlerRuntime(projection)

    results = await asyncio.gather(*(runtime.apply(event.event_id) for event in events))

    assert results == [Applied.APPLIED] * 20
    assert await entries(projection) == in_order(events)
