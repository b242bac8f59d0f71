"""Scenario H1: the handler process killed at random while commands keep coming.

The commands and sagas run steadily in processes of their own; only ``run --role
handlers`` (which also relays the outbox) is SIGKILLed, mid-apply, mid-ack, mid-relay.
Its deliveries come back, its keeper catches up from the log, and every handler ends
with each event applied exactly once, in version order per account.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.chaos import kill_at_random
from tests.faults.environment import Environment
from tests.faults.handler_checks import handled_problems, statements_problems
from tests.faults.handler_traffic import (
    SUBSCRIPTIONS,
    backlog_at_least,
    caught_up,
    empty_handler_queues,
    handler_queues,
    queue_counts,
    traffic_until,
)
from tests.faults.scenarios import Run
from tests.faults.workloads import new_id
from worker.config import parse_delays

pytestmark = pytest.mark.faults

KILLS = 5


async def test_a_handler_process_killed_at_random_applies_every_event_once_and_in_order(
    env: Environment,
) -> None:
    run = Run.new(f"H1 handlers SIGKILL x{KILLS}", env)
    statement = next(s for s in SUBSCRIPTIONS if s.name == "account_statement")
    accounts = [new_id("acc") for _ in range(4)]
    await empty_handler_queues(env)
    await asyncio.gather(
        run.cluster.start("commands", role="commands"),
        run.cluster.start("sagas", role="sagas"),
        run.cluster.start("handlers", role="handlers"),
    )
    await run.prepare(accounts)

    kills = kill_at_random(
        run.cluster,
        run.rng,
        ["handlers"],
        times=KILLS,
        gate=backlog_at_least(run, statement, 3),
        pause=(0.2, 1.5),
    )
    faults = asyncio.ensure_future(kills())
    sent = await traffic_until(run, accounts, faults, least=300)
    await faults
    await run.checker.settle(60)
    shown = await caught_up(env)  # the last restarted handler process is the final one

    report = await run.finish()
    run.assert_sound(report)
    assert run.cluster.kills == KILLS, "every kill struck a running handler process"
    assert {h["name"] for h in shown} == {s.name for s in SUBSCRIPTIONS}
    lines, problems = await statements_problems(env)
    assert problems == [], f"seed {run.seed}: {problems}"
    assert lines > sent // 2, "most of the traffic moved money"
    assert await handled_problems(env) == {}, f"seed {run.seed}"
    delays = parse_delays(env.settings["RETRY_DELAYS"])
    dead = {q: n for q, n in (await queue_counts(env, handler_queues(delays))).items() if n}
    assert dead == {}, "no event waits or is dead-lettered in a handler's queues"
