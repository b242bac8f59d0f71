"""Soak mode: the suite's faults combined at random, round after round, for a given time.

One environment for the whole soak (a vhost, a database, its own Temporal dev
server), two command workers and a saga worker. Each round sends a random mix
(sometimes every message twice and shuffled, sometimes with bad input) while a
random set of faults strikes, then waits until everything settled and checks it
all again: lost 0, applied twice 0, money adds up, ``worker check`` happy. The
first round that fails stops the soak.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

from tests.faults import chaos
from tests.faults.bad_input import all_cases
from tests.faults.environment import Environment
from tests.faults.figures import Figures, table
from tests.faults.hooks import crash_after_commit, crash_after_publish
from tests.faults.publishers import publish_with_pika
from tests.faults.report import Report
from tests.faults.scenarios import Run, worker_check
from tests.faults.traffic import Planned
from tests.faults.workloads import mixed, new_id, twice_out_of_order
from worker.sagas.devserver import DevServer

#: Faults that stop a server of the whole machine (other users of it notice).
MACHINE_WIDE = ("rabbitmq", "postgres")
HOOKS = ("crash-after-commit", "crash-after-publish")
FAULTS = ("kill-commands", "kill-sagas", "temporal", *HOOKS, *MACHINE_WIDE)
WORKERS = {"commands-1": "commands", "commands-2": "commands", "sagas": "sagas"}
#: How long a fault waits for work in flight before it lets the round go without it.
GATE_TIMEOUT = 15.0


@dataclass
class Round:
    number: int
    faults: list[str]
    messages: list[Planned]
    bad: list[Planned]
    twice: bool

    @property
    def label(self) -> str:
        shape = "x2 shuffled" if self.twice else "mixed"
        extras = f" +{len(self.bad)} bad" if self.bad else ""
        faults = ",".join(self.faults) or "-"
        return f"soak {self.number}: {len(self.messages)} {shape}{extras} | {faults}"


def plan_round(number: int, rng: random.Random, accounts: list[str], allowed: list[str]) -> Round:
    faults = sorted(rng.sample(allowed, rng.randint(0, min(3, len(allowed)))))
    messages = mixed(rng, accounts, rng.randint(200, 1000), transfers=0.05)
    bad = []
    if rng.random() < 0.3:
        bad = rng.sample(all_cases(accounts[0]), 4)
    return Round(number, faults, messages, bad, twice=rng.random() < 0.3)


def faults_of(spec: Round, run: Run, temporal: DevServer) -> list[chaos.Fault]:
    rng, cluster, in_flight = run.rng, run.cluster, run.in_flight
    messages, transfers = in_flight.messages_at_least(5), in_flight.transfers_at_least(1)
    makers = {
        "kill-commands": lambda: chaos.kill_at_random(
            cluster, rng, ["commands-1", "commands-2"], times=rng.randint(1, 3), gate=messages
        ),
        "kill-sagas": lambda: chaos.kill_at_random(
            cluster, rng, ["sagas"], times=1, gate=transfers
        ),
        "temporal": lambda: chaos.restart_temporal(temporal, transfers),
        "crash-after-commit": lambda: crash_after_commit(run, "commands-1", ["commands-2"]),
        "crash-after-publish": lambda: crash_after_publish(
            run, "commands-1", ["commands-2", "sagas"]
        ),
        "rabbitmq": lambda: chaos.restart_rabbitmq(messages),
        "postgres": lambda: chaos.postgres_outage(
            messages, rng.uniform(5, 15), run.env.database_url
        ),
    }
    return [makers[name]() for name in spec.faults]


async def play(spec: Round, run: Run, temporal: DevServer) -> None:
    order = twice_out_of_order(spec.messages, run.rng) if spec.twice else spec.messages

    async def traffic() -> None:
        await asyncio.gather(
            run.publish(order, spread=run.rng.uniform(0, 6)),
            asyncio.to_thread(publish_with_pika, run.env.amqp_url, run.ledger, spec.bad),
        )

    await chaos.unleash(traffic(), faults_of(spec, run, temporal))


async def soak(
    env: Environment, temporal: DevServer, seconds: float, seed: int, allowed: list[str]
) -> tuple[list[Figures], bool]:
    """Rounds until ``seconds`` passed or one fails; their figures, and whether all held."""
    run = Run.new("soak", env, seed)
    run.in_flight.strict, run.in_flight.timeout = False, GATE_TIMEOUT
    await asyncio.gather(*(run.cluster.start(n, role=r) for n, r in WORKERS.items()))
    accounts = [new_id("soak") for _ in range(16)]
    await run.prepare(accounts)
    results: list[Figures] = []
    deadline = time.monotonic() + seconds
    failure = None
    try:
        while time.monotonic() < deadline:
            spec = plan_round(len(results) + 1, run.rng, accounts, allowed)
            figures, report = await one_round(spec, run, temporal)
            results.append(figures)
            print(table([figures]).splitlines()[-1], flush=True)
            failure = verdict(report, run, env)
            if failure:
                print(failure, flush=True)
                break
    finally:
        run.exit_codes = await run.cluster.stop()
    if failure is None:  # what the workers did while stopping must hold too
        failure = await final_check(run, env)
        print(failure or "final check after the stop: ok", flush=True)
    return results, failure is None


async def final_check(run: Run, env: Environment) -> str | None:
    report = await run.checker.report()
    run.check = await asyncio.to_thread(worker_check, run.env)
    if set(run.exit_codes.values()) - {0}:
        return f"FAILED: exit codes {run.exit_codes}"
    return verdict(report, run, env)


async def one_round(spec: Round, run: Run, temporal: DevServer) -> tuple[Figures, Report]:
    started, kills, restarts = time.monotonic(), run.cluster.kills, run.cluster.restarts
    before, struck = set(run.ledger.confirmed), len(run.in_flight.at_faults)
    await play(spec, run, temporal)
    report = await run.checker.settle(240)
    run.check = await asyncio.to_thread(worker_check, run.env)
    this_round = report.only(run.ledger.confirmed - before)
    figures = Figures.of(
        spec.label,
        this_round,
        kills=run.cluster.kills - kills,
        restarts=run.cluster.restarts - restarts,
        seconds=time.monotonic() - started,
        seed=run.seed,
        check=run.check,
        in_flight=run.in_flight.at_faults[struck:],
    )
    return figures, report


def verdict(report: Report, run: Run, env: Environment) -> str | None:
    """Why the soak must stop, or None when everything holds."""
    if not report.ok:
        return f"FAILED (seed {run.seed}, logs in {env.log_dir}):\n{report.summary()}"
    if run.check is not None and run.check.get("ok") is not True:
        return f"FAILED: worker check: {run.check}"
    return None
