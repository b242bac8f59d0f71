"""One scenario run: its workers, ledger and checker, and how it ends (figures, `worker check`).

Tests and the soak mode drive the same object: ``prepare`` funds accounts and
waits for them, ``storm`` publishes with faults alongside, ``finish`` waits until
everything settled, stops the workers, runs ``python -m worker check --json`` and
records the figures; ``assert_sound`` states the pass criteria.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.harness import run_cli
from tests.faults.chaos import Fault, unleash
from tests.faults.checker import Checker
from tests.faults.cluster import Cluster
from tests.faults.environment import Environment
from tests.faults.figures import RECORDED, Figures
from tests.faults.in_flight import InFlight
from tests.faults.publishers import Publisher
from tests.faults.report import Report
from tests.faults.traffic import Ledger, Planned
from tests.faults.workloads import FUNDING, deposit, open_account


def worker_check(env: Environment) -> dict[str, Any]:
    """What ``python -m worker check --json`` says about the scenario's database."""
    result = run_cli(env.worker_env(), "check", "--json", timeout=120)
    try:
        found: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        found = {"ok": False, "output": result.stdout, "stderr": result.stderr}
    found["exit_code"] = result.returncode
    return found


@dataclass
class Run:
    name: str
    env: Environment
    seed: int
    rng: random.Random
    cluster: Cluster
    ledger: Ledger
    checker: Checker
    in_flight: InFlight
    started: float = field(default_factory=time.monotonic)
    exit_codes: dict[str, int | None] = field(default_factory=dict)
    check: dict[str, Any] | None = None

    @classmethod
    def new(cls, name: str, env: Environment, seed: int | None = None) -> Run:
        seed = random.randrange(1 << 30) if seed is None else seed
        ledger = Ledger()
        checker, in_flight = Checker(env, ledger), InFlight(env.database_url, ledger)
        return cls(name, env, seed, random.Random(seed), Cluster(env), ledger, checker, in_flight)

    async def publish(
        self, messages: list[Planned], concurrency: int = 16, spread: float = 0
    ) -> None:
        """Publish ``messages``; given ``spread``, in ten batches over that many seconds
        (so that traffic keeps coming while the faults strike)."""
        batches = 10 if spread else 1
        size = max(1, -(-len(messages) // batches))
        async with Publisher(self.env.amqp_url, self.ledger) as publisher:
            for start in range(0, len(messages), size):
                if start:
                    await asyncio.sleep(spread / batches)
                batch = self.ledger.plan(messages[start : start + size])
                await publisher.publish_all(batch, concurrency)

    async def prepare(self, accounts: list[str]) -> None:
        """Open and fund ``accounts`` and wait for it, so later outcomes are known in advance."""
        for step in (open_account, lambda account: deposit(account, FUNDING)):
            await self.publish([step(account) for account in accounts])
            report = await self.checker.settle(60)
            assert report.ok, report.summary()

    async def storm(self, messages: list[Planned], faults: list[Fault], spread: float = 0) -> None:
        await unleash(self.publish(messages, spread=spread), faults)

    async def finish(self, timeout: float = 120) -> Report:
        """Wait until everything settled, stop the workers, check, record the figures.

        The report is taken again after the stop: what the workers finished while
        shutting down counts too.
        """
        await self.checker.settle(timeout)
        self.exit_codes = await self.cluster.stop()
        report = await self.checker.report()
        self.check = await asyncio.to_thread(worker_check, self.env)
        RECORDED.append(
            Figures.of(
                self.name,
                report,
                kills=self.cluster.kills,
                restarts=self.cluster.restarts,
                seconds=time.monotonic() - self.started,
                seed=self.seed,
                check=self.check,
                in_flight=self.in_flight.at_faults,
            )
        )
        return report

    def assert_sound(self, report: Report) -> None:
        """Lost 0, applied twice 0, money adds up, every outcome as planned, clean exits,
        and every fault struck while there was work in flight."""
        context = f"{self.name} (seed {self.seed}, logs in {self.env.log_dir})\n"
        in_flight = self.in_flight.at_faults
        assert all(n > 0 for n in in_flight), f"{context}in flight at the faults: {in_flight}"
        assert report.lost == [], context + report.summary()
        assert report.duplicated == [], context + report.summary()
        assert report.violations == [], context + report.summary()
        assert report.unexpected == [], context + report.summary()
        assert report.settled, context + report.summary()
        assert set(self.exit_codes.values()) <= {0}, f"{context}exit codes {self.exit_codes}"
        assert self.check is not None, "finish() runs the check"
        assert self.check.get("ok") is True and self.check["exit_code"] == 0, (
            f"{context}worker check: {self.check}"
        )
