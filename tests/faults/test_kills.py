"""Scenarios 1 and 2: the worker killed at random, and exactly between two steps that matter."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.broker import events_received, subscribe_to_events
from tests.faults.chaos import kill_at_random
from tests.faults.environment import Environment
from tests.faults.observe import read_database
from tests.faults.scenarios import Run
from tests.faults.workloads import deposit, mixed, new_id

pytestmark = pytest.mark.faults


async def test_sigkills_at_random_points_during_two_thousand_mixed_commands_lose_and_repeat_nothing(
    env: Environment,
) -> None:
    run = Run.new("1 SIGKILL x5 in 2,000 mixed", env)
    accounts = [new_id("acc") for _ in range(12)]
    # Sagas run beside it (scenario 8 kills them): a saga step in flight at a kill
    # waits out its 30 s activity timeout, too long for this suite's budget.
    await asyncio.gather(
        run.cluster.start("commands", role="commands"), run.cluster.start("sagas", role="sagas")
    )
    await run.prepare(accounts)

    messages = mixed(run.rng, accounts, 2000, transfers=0.03)
    # Five bursts, each with its kill, which strikes while that burst is being
    # handled: one long stream could drain between the kills on a fast machine.
    gate = run.in_flight.messages_at_least(20)
    for burst in (messages[start : start + 400] for start in range(0, 2000, 400)):
        kill = kill_at_random(
            run.cluster, run.rng, ["commands"], times=1, gate=gate, pause=(0, 0.3)
        )
        await run.storm(burst, [kill])

    report = await run.finish()
    run.assert_sound(report)
    assert run.cluster.kills == 5 and len(run.in_flight.at_faults) == 5
    assert report.count("rejected") > 0, "the mix has refusals: they are recorded, not lost"


async def test_a_worker_killed_after_commit_and_after_publish_repeats_no_effect(
    env: Environment,
) -> None:
    run = Run.new("2 exit after commit, after publish", env)
    accounts = [new_id("acc") for _ in range(4)]
    crash = deposit(accounts[0], "7.00")
    await run.cluster.start("worker", TEST_CRASH_AFTER_COMMIT=crash.message_id or "")
    await subscribe_to_events(env.amqp_url)
    await run.prepare(accounts)
    before, after = mixed(run.rng, accounts, 150, 0), mixed(run.rng, accounts, 150, 0)

    await run.publish([*before, crash])
    assert await run.cluster.wait_exit("worker") == 75, "the hook exits after the commit"
    events = (await read_database(env.database_url)).effects[crash.message_id or ""]
    assert [e.sent for e in events] == [False], "committed, and its event not sent yet"

    await run.cluster.restart("worker", {"TEST_CRASH_AFTER_PUBLISH": events[0].event_id})
    assert await run.cluster.wait_exit("worker") == 75, "the hook exits after the confirm"
    await run.cluster.restart("worker", {})
    await run.publish(after)
    report = await run.finish()

    run.assert_sound(report)
    answers = [line for line in run.cluster.log().splitlines() if f"={crash.message_id} " in line]
    assert any("outcome=accepted (duplicate)" in a for a in answers), "found in the inbox"
    seen = await events_received(env.amqp_url)
    assert seen[events[0].event_id] >= 2, "published again after the restart: a duplicate id"
    committed = {e.event_id for e in (await read_database(env.database_url)).events}
    assert set(seen) == committed, "deduplicated on the event id, every event arrived once"
