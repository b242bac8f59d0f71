"""Scenarios 5 and 6: every message twice and out of order; three workers on one account."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.environment import Environment
from tests.faults.observe import read_database
from tests.faults.scenarios import Run
from tests.faults.workloads import cents, deposit, mixed, new_id, twice_out_of_order, withdraw

pytestmark = pytest.mark.faults


async def test_every_message_published_twice_and_out_of_order_takes_effect_once(
    env: Environment,
) -> None:
    run = Run.new("5 every message twice, shuffled", env)
    accounts = [new_id("acc") for _ in range(6)]
    await run.cluster.start("worker")
    await run.prepare(accounts)
    messages = mixed(run.rng, accounts, 400, transfers=0.03)
    published_before = run.ledger.publishes

    await run.publish(twice_out_of_order(messages, run.rng))

    report = await run.finish()
    run.assert_sound(report)
    assert run.ledger.publishes - published_before == 2 * len(messages)
    assert "(duplicate)" in run.cluster.log(), "the copies were answered from the inbox"


async def test_three_workers_on_one_account_lose_no_update(env: Environment) -> None:
    run = Run.new("6 one account, three workers", env)
    hot, other = new_id("hot"), new_id("other")
    names = ["w1", "w2", "w3"]
    await asyncio.gather(*(run.cluster.start(name, role="commands") for name in names))
    await run.prepare([hot, other])
    messages = [deposit(hot, cents(run.rng, 100, 999)) for _ in range(240)]
    messages += [withdraw(hot, cents(run.rng, 1, 499)) for _ in range(120)]
    messages += [deposit(other, "1.00") for _ in range(40)]
    run.rng.shuffle(messages)

    await run.publish(messages, concurrency=64)

    report = await run.finish()
    run.assert_sound(report)
    _, version = (await read_database(env.database_url)).balances[hot]
    assert version == 2 + 360, "every command on the hot account is one version"
    handled = [p.log().count("outcome=accepted") for p in run.cluster.history]
    assert all(handled), f"every worker took part: {handled}"
