"""Order saga throughput: orders through the worker's order saga against a bare Temporal workflow.

Both sides start from the same drafts, written by hand: customers paying with
funded accounts, products in stock, orders of one or two lines. The worker
takes each as an AMQP ``PlaceOrder``; the baseline's client starts its workflow.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
from temporalio.client import Client

from bench.env import Environment
from bench.order_baseline import TASK_QUEUE, BenchOrder, Job, Line
from bench.processes import Process
from bench.sagas import alternate

SKUS = [f"BENCH-{i}" for i in range(10)]
PRICE = Decimal("2.50")
#: Both addresses of every customer, as the customers context stores them.
ADDRESS = (
    '{"line1":"1 Rue du Banc","line2":null,"city":"Lyon","postal_code":"69001","country":"FR"}'
)
CUSTOMERS = """INSERT INTO customers (id, name, email, billing_address, shipping_address,
                 payment_account_id, loyalty_points, version, created_at, updated_at)
               SELECT 'cus-' || i, 'Bench', 'bench' || i || '@example.com', $2, $2,
                 'acc-' || i, 0, 1, now(), now() FROM generate_series(1, $1) AS i"""
PRODUCTS = """INSERT INTO products (id, name, price, currency, status, on_hand, version,
                created_at, updated_at)
              VALUES ($1, 'Bench', $2, 'EUR', 'active', $3, 1, now(), now())"""
ORDERS = """INSERT INTO orders (id, customer_id, payment_account_id, currency, status, reason,
              charging, cancel_requested, version, created_at, updated_at)
            VALUES ($1, $2, $3, 'EUR', 'draft', '', false, false, $4, now(), now())"""
LINES = """INSERT INTO order_lines (order_id, position, sku, quantity, unit_price, discount,
             subtotal) VALUES ($1, $2, $3, $4, $5, 0, $6)"""
STATUSES = "SELECT status, count(*) FROM orders GROUP BY status"


def drafts(n: int, accounts: int) -> list[Job]:
    """``n`` orders of this round (new ids: Temporal keeps every round's), 1 or 2 lines each."""
    run = uuid.uuid4().hex[:6]
    jobs = []
    for i in range(n):
        lines = [Line(SKUS[i % len(SKUS)], 1 + i % 3)]
        if i % 2:
            lines.append(Line(SKUS[(i + 1) % len(SKUS)], 2))
        jobs.append(Job(f"o-{run}-{i}", f"acc-{1 + i % accounts}", lines))
    return jobs


def payer(job: Job) -> str:
    """The customer of an order: ``cus-k`` pays with ``acc-k`` (see CUSTOMERS)."""
    return job.account_id.replace("acc-", "cus-", 1)


async def seed(env: Environment, n: int, accounts: int) -> list[Job]:
    """Funded accounts and their customers, products with stock for all, ``n`` drafts."""
    await env.reset(accounts, balance=1_000_000)
    jobs = drafts(n, accounts)
    db = await asyncpg.connect(env.database_url)
    try:
        await db.execute(CUSTOMERS, accounts, ADDRESS)
        await db.executemany(PRODUCTS, [(sku, PRICE, 10 * n) for sku in SKUS])
        orders = [(j.order_id, payer(j), j.account_id, 1 + len(j.lines)) for j in jobs]
        await db.executemany(ORDERS, orders)
        lines = [
            (job.order_id, position, line.sku, line.quantity, PRICE, PRICE * line.quantity)
            for job in jobs
            for position, line in enumerate(job.lines, 1)
        ]
        await db.executemany(LINES, lines)
        await db.execute("ANALYZE")
    finally:
        await db.close()
    return jobs


async def wait_confirmed(url: str, n: int, timeout: float = 600) -> float:
    """Poll until ``n`` orders are confirmed (the time it happened); an order ended
    otherwise fails the round at once."""
    db = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            statuses = dict(await db.fetch(STATUSES))
            if statuses.get("confirmed", 0) >= n:
                return time.monotonic()
            ended = {s: c for s, c in statuses.items() if s not in ("draft", "placed", "confirmed")}
            if ended or time.monotonic() > deadline:
                raise RuntimeError(f"orders did not all confirm: {statuses}")
            await asyncio.sleep(0.02)
    finally:
        await db.close()


async def worker_round(env: Environment, address: str, logs: Path, n: int, accounts: int) -> float:
    jobs = await seed(env, n, accounts)
    process = Process(
        [sys.executable, "-m", "worker", "run", "--role", "commands", "--role", "sagas"],
        {
            "AMQP_URL": env.amqp_url,
            "DATABASE_URL": env.database_url,
            "TEMPORAL_ADDRESS": address,
            "LOG_LEVEL": "INFO",
        },
        logs / "order-worker.log",
    ).start()
    try:
        connection = await aio_pika.connect(env.amqp_url)
        exchange = await (await connection.channel()).get_exchange("commands")
        began = time.monotonic()
        for job in jobs:
            body = json.dumps({"order_id": job.order_id}).encode()
            message = aio_pika.Message(body, message_id=f"po-{job.order_id}")
            await exchange.publish(message, routing_key="PlaceOrder")
        await connection.close()
        return n / (await wait_confirmed(env.database_url, n) - began)
    finally:
        process.stop()


async def baseline_round(
    env: Environment, address: str, logs: Path, n: int, accounts: int
) -> float:
    jobs = await seed(env, n, accounts)
    process = Process(
        # Not ``-m``: Temporal's sandbox must be able to re-import the workflow's module.
        [sys.executable, "-c", "import asyncio, bench.order_baseline as b; asyncio.run(b.main())"],
        {"TEMPORAL_ADDRESS": address, "DATABASE_URL": env.database_url},
        logs / "order-baseline.log",
    ).start()
    try:
        client = await Client.connect(address)
        began = time.monotonic()
        for job in jobs:
            await client.start_workflow(
                BenchOrder.run, job, id=f"bo-{job.order_id}", task_queue=TASK_QUEUE
            )
        return n / (await wait_confirmed(env.database_url, n) - began)
    finally:
        process.stop()


async def compare_orders(
    env: Environment, n: int, rounds: int, accounts: int, advance: Any = lambda: None
) -> dict[str, Any]:
    """Worker and baseline rounds alternated on one dev server of their own; the medians."""
    sides = {"worker": worker_round, "baseline": baseline_round}
    return {**await alternate(env, sides, n, rounds, accounts, advance), "orders": n}
