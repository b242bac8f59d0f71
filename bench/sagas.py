"""Saga throughput: transfers through the worker's saga against a bare Temporal workflow."""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aio_pika
from temporalio.client import Client

from bench.env import Environment, wait_for_count
from bench.processes import Process
from bench.saga_baseline import TASK_QUEUE, BenchTransfer, Move
from worker.bootstrap import contexts as _contexts
from worker.sagas.client import search_attributes as _declared_attributes
from worker.sagas.devserver import DevServer, free_port

#: Registered when the dev server starts: SagaState and each declared saga kind's id.
SEARCH_ATTRIBUTES = _declared_attributes(_contexts(extra=()).sagas)

COMPLETED = "SELECT count(*) FROM transfers WHERE state = 'completed'"
BASELINE_DONE = "SELECT count(*) FROM inbox WHERE message_id LIKE 'bt-%/deposit'"


def pairs(n: int, accounts: int) -> list[tuple[str, str]]:
    return [(f"acc-{1 + i % accounts}", f"acc-{1 + (i + 1) % accounts}") for i in range(n)]


async def worker_round(env: Environment, address: str, logs: Path, n: int, accounts: int) -> float:
    await env.reset(accounts, balance=1_000_000)
    process = Process(
        [sys.executable, "-m", "worker", "run", "--role", "commands", "--role", "sagas"],
        {
            "AMQP_URL": env.amqp_url,
            "DATABASE_URL": env.database_url,
            "TEMPORAL_ADDRESS": address,
            "LOG_LEVEL": "INFO",
        },
        logs / "saga-worker.log",
    ).start()
    try:
        connection = await aio_pika.connect(env.amqp_url)
        exchange = await (await connection.channel()).get_exchange("commands")
        began = time.monotonic()
        for i, (source, target) in enumerate(pairs(n, accounts)):
            body = {
                "transfer_id": f"t-{uuid.uuid4().hex[:12]}",
                "from_account_id": source,
                "to_account_id": target,
                "amount": "1.00",
                "currency": "EUR",
            }
            await exchange.publish(
                aio_pika.Message(json.dumps(body).encode(), message_id=f"tm-{i}-{uuid.uuid4()}"),
                routing_key="TransferMoney",
            )
        await connection.close()
        done = await wait_for_count(env.database_url, COMPLETED, n, timeout=600)
        return n / (done - began)
    finally:
        process.stop()


async def baseline_round(
    env: Environment, address: str, logs: Path, n: int, accounts: int
) -> float:
    await env.reset(accounts, balance=1_000_000)
    process = Process(
        # Not ``-m``: the workflow must live in an importable module, not ``__main__``,
        # or Temporal's sandbox cannot re-import it and its tasks are never run.
        [sys.executable, "-c", "import asyncio, bench.saga_baseline as b; asyncio.run(b.main())"],
        {"TEMPORAL_ADDRESS": address, "DATABASE_URL": env.database_url},
        logs / "saga-baseline.log",
    ).start()
    try:
        client = await Client.connect(address)
        began = time.monotonic()
        run = uuid.uuid4().hex[:6]
        for i, (source, target) in enumerate(pairs(n, accounts)):
            await client.start_workflow(
                BenchTransfer.run,
                Move(source, target, "1.00"),
                id=f"bt-{run}-{i}",
                task_queue=TASK_QUEUE,
            )
        done = await wait_for_count(env.database_url, BASELINE_DONE, n, timeout=600)
        return n / (done - began)
    finally:
        process.stop()


#: One round of one side: (environment, Temporal address, log folder, n, accounts) -> per second.
RoundOf = Callable[[Environment, str, Path, int, int], Awaitable[float]]


async def alternate(
    env: Environment,
    sides: Mapping[str, RoundOf],
    n: int,
    rounds: int,
    accounts: int,
    advance: Any = lambda: None,
) -> dict[str, Any]:
    """Each side's rounds, alternated on one dev server of their own; the medians."""
    folder = Path(tempfile.mkdtemp(prefix="bench-temporal-"))
    server = DevServer(
        search_attributes=SEARCH_ATTRIBUTES,
        port=free_port(),
        ui_port=None,
        db_file=folder / "t.sqlite",
        log_file=folder / "server.log",
        extra_ports=(free_port(), free_port()),
    ).start()
    results: dict[str, list[float]] = {side: [] for side in sides}
    try:
        for _ in range(rounds):
            for side, round_of in sides.items():
                results[side].append(await round_of(env, server.address, folder, n, accounts))
                advance()
    finally:
        server.stop()
    w, b = (sorted(r)[(len(r) - 1) // 2] for r in (results["worker"], results["baseline"]))
    return {"worker_per_second": w, "baseline_per_second": b, "ratio": w / b, "rounds": results}


async def compare_sagas(
    env: Environment, n: int, rounds: int, accounts: int, advance: Any = lambda: None
) -> dict[str, Any]:
    sides = {"worker": worker_round, "baseline": baseline_round}
    return {**await alternate(env, sides, n, rounds, accounts, advance), "transfers": n}
