"""Command benchmarks: throughput against the baseline, latency, outbox lag, resources."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import aio_pika
import asyncpg

from bench.env import Environment, wait_for_count
from bench.processes import Process

Factory = Callable[[Environment, Path, int], Process]
COUNT_INBOX = "SELECT count(*) FROM inbox WHERE message_id LIKE 'b-%'"


@dataclass
class Round:
    side: str
    commands: int
    seconds: float
    per_second: float
    cpu_seconds_per_1000: float
    peak_rss_mb: float
    startup_seconds: float


def deposit_bodies(n: int, accounts: int, hot: float) -> list[tuple[str, bytes]]:
    hot_every = int(1 / hot) if hot else 0
    bodies = []
    for i in range(n):
        account = 1 if hot_every and i % hot_every == 0 else 1 + i % accounts
        body = {"account_id": f"acc-{account}", "amount": "1.00", "currency": "EUR"}
        bodies.append((f"b-{uuid.uuid4().hex}", json.dumps(body).encode()))
    return bodies


async def publish(
    url: str, bodies: list[tuple[str, bytes]], rate: float | None = None
) -> dict[str, float]:
    """Publish with confirms (in pipelined chunks, or paced at ``rate``); wall time per id."""
    sent: dict[str, float] = {}
    connection = await aio_pika.connect(url)
    try:
        exchange = await (await connection.channel()).get_exchange("commands")

        async def one(message_id: str, body: bytes) -> None:
            sent[message_id] = time.time()
            await exchange.publish(
                aio_pika.Message(
                    body,
                    message_id=message_id,
                    content_type="application/json",
                    correlation_id=message_id,
                ),
                routing_key="Deposit",
            )

        if rate is None:
            for start in range(0, len(bodies), 500):
                await asyncio.gather(*(one(m, b) for m, b in bodies[start : start + 500]))
        else:
            began = time.monotonic()
            pending = []
            for i, (message_id, body) in enumerate(bodies):
                await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
                pending.append(asyncio.create_task(one(message_id, body)))
            await asyncio.gather(*pending)
    finally:
        await connection.close()
    return sent


async def throughput_round(
    env: Environment,
    factory: Factory,
    side: str,
    logs: Path,
    *,
    n: int,
    accounts: int,
    hot: float = 0.0,
    prefetch: int = 64,
    workers: int = 1,
    inbox_rows: int = 0,
) -> Round:
    await env.reset(accounts, inbox_rows)
    processes = [factory(env, logs / f"{side}-{i}.log", prefetch).start() for i in range(workers)]
    try:
        cpu_before = sum(p.cpu_seconds() for p in processes)
        bodies = deposit_bodies(n, accounts, hot)
        began = time.monotonic()
        await publish(env.amqp_url, bodies)
        done = await wait_for_count(env.database_url, COUNT_INBOX, n, timeout=600)
        cpu = sum(p.cpu_seconds() for p in processes) - cpu_before
        return Round(
            side=side,
            commands=n,
            seconds=done - began,
            per_second=n / (done - began),
            cpu_seconds_per_1000=cpu / n * 1000 / workers,
            peak_rss_mb=max(p.peak_rss_mb() for p in processes),
            startup_seconds=max(p.startup_seconds for p in processes),
        )
    finally:
        for process in processes:
            process.stop()


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"p50_ms": pick(0.50), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


async def latency(
    env: Environment,
    factory: Factory,
    logs: Path,
    *,
    rate: float,
    seconds: float,
    accounts: int,
) -> dict[str, dict[str, float]]:
    """Publish-to-commit and commit-to-event latency at a fixed publish rate."""
    await env.reset(accounts)
    process = factory(env, logs / "latency.log", 64).start()
    received: dict[str, float] = {}
    connection = await aio_pika.connect(env.amqp_url)
    try:
        events = await (await connection.channel()).declare_queue(exclusive=True)
        await events.bind("domain-events", routing_key="accounts.MoneyDeposited")

        async def on_event(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            received[str(message.headers.get("causation-id"))] = time.time()

        await events.consume(on_event, no_ack=True)
        n = max(20, int(rate * seconds))
        sent = await publish(env.amqp_url, deposit_bodies(n, accounts, 0.0), rate=rate)
        await wait_for_count(env.database_url, COUNT_INBOX, n, timeout=300)
        deadline = time.monotonic() + 30
        while len(received) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        db = await asyncpg.connect(env.database_url)
        rows = await db.fetch(
            "SELECT message_id, processed_at FROM inbox WHERE message_id LIKE 'b-%'"
        )
        await db.close()
    finally:
        await connection.close()
        process.stop()
    committed = {r["message_id"]: r["processed_at"].timestamp() for r in rows}
    to_commit = [committed[m] - t for m, t in sent.items() if m in committed]
    lag = [received[m] - committed[m] for m in committed if m in received]
    return {"publish_to_commit": percentiles(to_commit), "outbox_lag": percentiles(lag)}


def median_round(rounds: list[Round]) -> Round:
    middle = statistics.median_low([r.per_second for r in rounds])
    return next(r for r in rounds if r.per_second == middle)


def as_json(rounds: list[Round]) -> list[dict[str, object]]:
    return [asdict(r) for r in rounds]
