"""Scenarios 3 and 4: RabbitMQ restarted and PostgreSQL stopped for 12 s, mid-stream.

Both stop a server of the whole machine: every other test run on it fails meanwhile.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from tests.faults.chaos import consumers_on, postgres_outage, restart_rabbitmq
from tests.faults.environment import Environment
from tests.faults.scenarios import Run
from tests.faults.workloads import mixed, new_id

pytestmark = pytest.mark.faults


async def consumers_back(vhost: str, queues: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    for queue in queues:
        while await asyncio.to_thread(consumers_on, vhost, queue) != 1:
            assert time.monotonic() < deadline, f"no consumer on {queue} within {timeout}s"
            await asyncio.sleep(0.5)


async def test_a_broker_restart_mid_stream_loses_nothing_and_the_consumers_come_back(
    env: Environment,
) -> None:
    run = Run.new("3 RabbitMQ restarted", env)
    accounts = [new_id("acc") for _ in range(8)]
    worker = await run.cluster.start("worker")
    await run.prepare(accounts)

    messages = mixed(run.rng, accounts, 1000, transfers=0.02)
    await run.storm(messages, [restart_rabbitmq(run.in_flight.messages_at_least(20))], spread=4)
    await asyncio.to_thread(worker.wait_for_log, "ready:", 2, 60)
    await consumers_back(env.vhost, ["accounts.commands", "transfers.commands"])

    report = await run.finish()
    run.assert_sound(report)
    assert len(run.in_flight.at_faults) == 1
    assert "lost the broker connection" in worker.log()


#: Shorter than a saga's forward step retries for (1 + 2 + 4 + 8 s): an outage as long as
#: that rightly sends a transfer caught at its first attempt to compensation, and at 15 s
#: the outcome was a race between the restart and the step's last attempt.
OUTAGE_SECONDS = 12


async def test_postgres_down_for_twelve_seconds_mid_stream_dead_letters_nothing(
    env: Environment,
) -> None:
    run = Run.new(f"4 PostgreSQL down {OUTAGE_SECONDS} s", env)
    accounts = [new_id("acc") for _ in range(8)]
    worker = await run.cluster.start("worker")
    await run.prepare(accounts)

    messages = mixed(run.rng, accounts, 1000, transfers=0.02)
    outage = postgres_outage(run.in_flight.messages_at_least(20), OUTAGE_SECONDS, env.database_url)
    await run.storm(messages, [outage], spread=4)

    report = await run.finish(timeout=120)
    run.assert_sound(report)
    assert len(run.in_flight.at_faults) == 1
    assert report.count("dead") == 0, "nothing dead-lettered for an outage alone"
    log = worker.log()
    assert re.search(r"breaker \S+ open after", log), "the outage opened the breaker"
    ids = {m.message_id for m in messages}
    failed = set(re.findall(r"transient failure handling (\S+) ", log))
    assert ids & failed, "messages of this run failed transiently (and the checker saw them done)"
