"""Scenario 8: the saga worker killed, Temporal restarted; and SIGTERM while Temporal is away.

Each test runs its own Temporal dev server (state in a file, so it survives a
restart) and stops it at will, leaving the session's server alone.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess

import pytest

from tests.faults.chaos import kill_at_random, restart_temporal
from tests.faults.environment import Environment
from tests.faults.scenarios import Run
from tests.faults.traffic import Planned, command
from tests.faults.workloads import new_id, open_account, transfer
from worker.sagas.devserver import DevServer

pytestmark = pytest.mark.faults

#: SHUTDOWN_GRACE of the SIGTERM tests, in seconds.
GRACE = 2


async def open_poor_and_closed(run: Run) -> tuple[str, str]:
    """An account with nothing on it, and a closed one: transfers from/to them fail."""
    poor, closed = new_id("poor"), new_id("closed")
    await run.publish([open_account(poor), open_account(closed)])
    await run.checker.settle(60)
    await run.publish([command("CloseAccount", {"account_id": closed})])
    await run.checker.settle(60)
    return poor, closed


def transfers(run: Run, ring: list[str], poor: str, closed: str) -> list[Planned]:
    """Transfers, each planned to end in its state (the checker holds them to it)."""
    planned = [transfer(new_id("t"), ring[i % 6], ring[(i + 1) % 6], "2.50") for i in range(30)]
    for i in range(3):
        planned.append(transfer(new_id("t"), poor, ring[i], "5.00", ends="rejected"))
        planned.append(transfer(new_id("t"), ring[i], closed, "5.00", ends="compensated"))
    run.rng.shuffle(planned)
    return planned


async def test_sagas_end_and_conserve_money_through_a_killed_saga_worker_and_a_temporal_restart(
    env: Environment, temporal: DevServer
) -> None:
    env.temporal_address = temporal.address
    run = Run.new("8 saga worker SIGKILL x2, Temporal restart", env)
    await asyncio.gather(
        run.cluster.start("commands", role="commands"), run.cluster.start("sagas", role="sagas")
    )
    ring = [new_id("ring") for _ in range(6)]
    await run.prepare(ring)
    poor, closed = await open_poor_and_closed(run)
    planned = transfers(run, ring, poor, closed)

    # Three bursts, each with its fault, which strikes once that burst's sagas are
    # under way (a withdrawal applied, transfers not ended): a fault that waited for
    # one long stream could find it already drained.
    gate = run.in_flight.transfers_at_least(3)
    faults = [
        restart_temporal(temporal, gate),
        kill_at_random(run.cluster, run.rng, ["sagas"], times=1, gate=gate, pause=(0, 0.2)),
        kill_at_random(run.cluster, run.rng, ["sagas"], times=1, gate=gate, pause=(0, 0.2)),
    ]
    for burst, fault in zip((planned[i::3] for i in range(3)), faults, strict=True):
        await run.storm(burst, [fault])

    report = await run.finish(timeout=180)
    run.assert_sound(report)
    assert len(run.in_flight.at_faults) == 3
    ends = {run.ledger.planned[ref].ends for ref in report.outcomes}
    assert ends >= {"completed", "rejected", "compensated"}, "each end state was tested"


@pytest.mark.parametrize("outage", ["hangs", "is-gone"])
async def test_a_worker_exits_within_its_grace_on_sigterm_while_temporal(
    env: Environment, temporal: DevServer, outage: str
) -> None:
    env.temporal_address = temporal.address
    env.settings["SHUTDOWN_GRACE"] = str(GRACE)
    run = Run.new(f"8 SIGTERM while Temporal {outage}", env)
    worker = await run.cluster.start("worker")
    # Sagas in flight (they end rejected: neither account exists).
    ghosts = [
        transfer(new_id("t"), new_id("a"), new_id("b"), "1.00", "rejected") for _ in range(10)
    ]
    await run.publish(ghosts)
    assert temporal.process is not None
    if outage == "hangs":  # the process is there but answers nothing
        os.kill(temporal.process.pid, signal.SIGSTOP)
    else:
        temporal.process.kill()
    try:
        await asyncio.sleep(1)
        code = await asyncio.to_thread(worker.stop, GRACE + 5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"no exit within SHUTDOWN_GRACE ({GRACE} s) + 5 s of SIGTERM")
    finally:
        if outage == "hangs":
            os.kill(temporal.process.pid, signal.SIGCONT)
        else:
            await asyncio.to_thread(temporal.start)
    assert code == 0

    await run.cluster.restart("worker")
    report = await run.finish(timeout=120)
    run.assert_sound(report)
