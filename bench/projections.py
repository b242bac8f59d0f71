"""Read-side benchmarks: events a projection applies per second, and commit→projection latency.

Applying: a commands-only worker turns ``n`` deposits into ``n`` logged and published
events, waiting in ``account_statement.events``; then the handlers start, alone, and
are timed from their readiness until every event is applied. The baseline
(``bench/projection_baseline.py``) drains the same backlog, rounds alternated.
Latency: one worker with the commands and handlers roles, deposits at a fixed rate;
per event, the handled record's time minus the event's commit time.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bench.commands import Factory, deposit_bodies, percentiles, publish
from bench.env import Environment, wait_for_count
from bench.processes import handlers_process, projection_baseline_process, worker_process

PROJECTION = "account_statement"
PUBLISHED = "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"
APPLIED = {
    "worker": f"SELECT count(*) FROM handled_events WHERE handler = '{PROJECTION}'",
    "baseline": "SELECT count(*) FROM bench_statement",
}
SIDES: dict[str, Factory] = {"worker": handlers_process, "baseline": projection_baseline_process}
#: Per event, seconds from its commit (its outbox row's time) to its handled record's, and
#: to its position's (the relay's share of the wait).
COMMIT_TO_PROJECTION = f"""SELECT EXTRACT(EPOCH FROM h.handled_at - l.occurred_at)::float8,
      EXTRACT(EPOCH FROM l.logged_at - l.occurred_at)::float8
    FROM handled_events h JOIN event_log l USING (event_id) WHERE h.handler = '{PROJECTION}'"""


@dataclass
class Applying:
    side: str
    events: int
    #: Applied before the process said it was ready (its consumers start just before).
    before_ready: int
    seconds: float
    per_second: float
    cpu_seconds_per_1000: float
    startup_seconds: float


async def backlog(env: Environment, logs: Path, n: int, accounts: int) -> None:
    """``n`` deposits' events in the log and in the handlers' queues, no handler running."""
    await env.reset(accounts)
    process = worker_process(env, logs / "projection-commands.log", 64).start()
    try:
        await publish(env.amqp_url, deposit_bodies(n, accounts, 0.0))
        await wait_for_count(env.database_url, PUBLISHED, n, timeout=600)
    finally:
        process.stop()


async def applying_round(
    env: Environment, side: str, logs: Path, *, n: int, accounts: int
) -> Applying:
    await backlog(env, logs, n, accounts)
    process = SIDES[side](env, logs / f"projection-{side}.log", 64).start()
    try:
        began, cpu_before = time.monotonic(), process.cpu_seconds()
        db = await asyncpg.connect(env.database_url)
        before_ready = int(await db.fetchval(APPLIED[side]))
        await db.close()
        done = await wait_for_count(env.database_url, APPLIED[side], n, timeout=600)
        seconds = done - began
        return Applying(
            side=side,
            events=n,
            before_ready=before_ready,
            seconds=seconds,
            per_second=(n - before_ready) / seconds,
            cpu_seconds_per_1000=(process.cpu_seconds() - cpu_before) / n * 1000,
            startup_seconds=process.startup_seconds,
        )
    finally:
        process.stop()


async def compare_applying(
    env: Environment, logs: Path, n: int, rounds: int, accounts: int, advance: Any = lambda: None
) -> dict[str, Any]:
    """Worker and baseline rounds, alternated; the median round of each."""
    results: dict[str, list[Applying]] = {side: [] for side in SIDES}
    for _ in range(rounds):
        for side in SIDES:
            results[side].append(await applying_round(env, side, logs, n=n, accounts=accounts))
            advance()
    worker, baseline = (median(results[side]) for side in SIDES)
    return {
        "projection": PROJECTION,
        "worker": asdict(worker),
        "baseline": asdict(baseline),
        "ratio": worker.per_second / baseline.per_second,
        "rounds": {side: [asdict(r) for r in rs] for side, rs in results.items()},
    }


def median(rounds: list[Applying]) -> Applying:
    return sorted(rounds, key=lambda r: r.per_second)[(len(rounds) - 1) // 2]


async def projection_latency(
    env: Environment, logs: Path, *, rate: float, seconds: float, accounts: int
) -> dict[str, Any]:
    """Commit→projection p50/p95/p99 with the commands and the handlers in one worker."""
    await env.reset(accounts)
    roles = ("commands", "handlers")
    process = worker_process(env, logs / "projection-latency.log", 64, roles).start()
    try:
        n = max(20, int(rate * seconds))
        await publish(env.amqp_url, deposit_bodies(n, accounts, 0.0), rate=rate)
        await wait_for_count(env.database_url, APPLIED["worker"], n, timeout=300)
        db = await asyncpg.connect(env.database_url)
        rows = await db.fetch(COMMIT_TO_PROJECTION)
        await db.close()
    finally:
        process.stop()
    return {
        "rate_per_second": rate,
        "events": n,
        **percentiles([row[0] for row in rows]),
        "commit_to_log": percentiles([row[1] for row in rows]),
    }
