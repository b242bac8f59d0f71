"""Scenario 7: every kind of bad input lands in the DLQ with its precise reason; neighbours pass.

The cases of tests/e2e/test_invalid_input.py, plus a few more (tests/faults/bad_input.py),
each followed by a good deposit, all under the checker: every bad message is accounted
for in the DLQ with the expected ``error-code``, every good one applied once, and the
worker stays up and consuming.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.bad_input import QUEUE, all_cases
from tests.faults.chaos import consumers_on
from tests.faults.environment import Environment
from tests.faults.publishers import publish_with_pika
from tests.faults.scenarios import Run
from tests.faults.workloads import deposit, new_id

pytestmark = pytest.mark.faults


async def test_bad_input_is_dead_lettered_with_its_reason_and_the_worker_stays_healthy(
    env: Environment,
) -> None:
    account = new_id("neighbour")
    bad = all_cases(account)
    run = Run.new(f"7 {len(bad)} kinds of bad input", env)
    worker = await run.cluster.start("worker")
    await run.prepare([account])
    messages = [m for pair in ((b, deposit(account, "1.00")) for b in bad) for m in pair]
    # Sent to the queue, a known name in ``type`` is applied: so the unknown-command
    # case (type Teleport, the same way) is refused for its name alone.
    direct = deposit(account, "1.00")
    direct.queue, direct.type = QUEUE, "Deposit"
    messages.append(direct)

    await asyncio.to_thread(publish_with_pika, env.amqp_url, run.ledger, messages)
    await run.checker.settle()
    assert worker.process is not None and worker.process.poll() is None, "still running"
    assert consumers_on(env.vhost, QUEUE) == 1, "still consuming"

    report = await run.finish()
    run.assert_sound(report)
    assert {report.outcomes[m.ref] for m in bad} == {m.expect for m in bad}
    assert {letter.failure_class for letter in run.checker.dead.values()} == {"invalid"}
    assert "Traceback" not in run.cluster.log()
