"""The order saga's baseline: a bare Temporal workflow whose activities do the SQL by hand.

Place, reserve, charge, commit, confirm: each activity runs, in one transaction,
what the worker does for that step: the inbox insert, each row's update (under
``SELECT ... FOR UPDATE``, its version counted up), the reservation rows, an
outbox insert per event. Started by ``bench.orders`` (env: TEMPORAL_ADDRESS,
DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    # Re-imported inside the workflow sandbox, asyncpg's C extension crashes the process.
    import asyncpg

    from bench.saga_baseline import INBOX
    from domain.orders.pricing import TIERS

TASK_QUEUE = "bench-order-baseline"
HOLD = timedelta(minutes=15)
AGGREGATE_TYPE = {"orders": "orders", "products": "catalog", "accounts": "accounts"}
LOCK = "SELECT * FROM {} WHERE id = $1 FOR UPDATE"
SAVE = "UPDATE {} SET {}version = version + 1, updated_at = now() WHERE id = $1"
OUTBOX = """INSERT INTO outbox (event_id, event_type, aggregate_type, aggregate_id,
             aggregate_version, payload, causation_id, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, now())"""
HELD = """SELECT coalesce(sum(quantity), 0) FROM product_reservations
          WHERE sku = $1 AND order_id <> $2 AND expires_at > now()"""
HOLD_ROW = """INSERT INTO product_reservations (sku, order_id, quantity, expires_at)
              VALUES ($1, $2, $3, now() + $4::interval) ON CONFLICT (sku, order_id)
              DO UPDATE SET quantity = excluded.quantity, expires_at = excluded.expires_at"""
TAKE_ROW = "DELETE FROM product_reservations WHERE sku = $1 AND order_id = $2 RETURNING quantity"
PRICE_LINE = "UPDATE order_lines SET discount = $1, subtotal = $2 WHERE id = $3"


@dataclass
class Line:
    sku: str
    quantity: int


@dataclass
class Job:
    order_id: str
    account_id: str
    lines: list[Line]


@dataclass
class Step:
    job: Job
    key: str
    total: str = ""


def priced(line: Any) -> tuple[Decimal, Decimal, int]:
    """A line's discount (the highest tier it reaches) and subtotal, and its row id."""
    gross = line["unit_price"] * line["quantity"]
    rate = next((t.percent for t in TIERS if line["quantity"] >= t.min_quantity), Decimal(0))
    off = (gross * rate / 100).quantize(Decimal("0.01"))
    return off, gross - off, line["id"]


class Activities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def _once(
        self, step: Step, command: str, work: Callable[[asyncpg.Connection], Awaitable[None]]
    ) -> None:
        """``work`` in one transaction with the step's inbox row; a duplicate does nothing."""
        async with self.pool.acquire() as db, db.transaction():
            if await db.execute(INBOX, step.key, command) != "INSERT 0 0":
                await work(db)

    async def _save(
        self, db: Any, step: Step, table: str, row: Any, event: str, sets: str = "", *values: Any
    ) -> None:
        """Update ``row`` (``sets``: ``"on_hand = on_hand - $2, "``, values from ``$2``),
        counting its version up, and insert its event."""
        await db.execute(SAVE.format(table, sets), row["id"], *values)
        kind, body = AGGREGATE_TYPE[table], json.dumps({"order_id": step.job.order_id})
        event_row = (f"{kind}.{event}", kind, row["id"], row["version"] + 1, body, step.key)
        await db.execute(OUTBOX, str(uuid.uuid4()), *event_row)

    @activity.defn(name="bench_place_order")
    async def place(self, step: Step) -> str:
        async with self.pool.acquire() as db, db.transaction():
            order = await db.fetchrow(LOCK.format("orders"), step.job.order_id)
            if await db.execute(INBOX, step.key, "PlaceOrder") == "INSERT 0 0":
                return str(order["total"])  # placed by an earlier attempt
            lines = await db.fetch("SELECT * FROM order_lines WHERE order_id = $1", order["id"])
            prices = [priced(line) for line in lines]
            await db.executemany(PRICE_LINE, prices)
            total = sum((subtotal for _, subtotal, _ in prices), Decimal(0))
            sets = "status = 'placed', total = $2, "
            await self._save(db, step, "orders", order, "OrderPlaced", sets, total)
            return str(total)

    @activity.defn(name="bench_reserve_stock")
    async def reserve(self, step: Step) -> None:
        async def work(db: asyncpg.Connection) -> None:
            for line in sorted(step.job.lines, key=lambda line: line.sku):
                product = await db.fetchrow(LOCK.format("products"), line.sku)
                held = await db.fetchval(HELD, line.sku, step.job.order_id)
                if product["on_hand"] - held < line.quantity:
                    raise ValueError(f"out of stock: {line.sku}")
                await db.execute(HOLD_ROW, line.sku, step.job.order_id, line.quantity, HOLD)
                await self._save(db, step, "products", product, "StockReserved")

        await self._once(step, "ReserveStock", work)

    @activity.defn(name="bench_charge")
    async def charge(self, step: Step) -> None:
        async def work(db: asyncpg.Connection) -> None:
            account = await db.fetchrow(LOCK.format("accounts"), step.job.account_id)
            balance = account["balance"] - Decimal(step.total)
            if balance < 0:
                raise ValueError("insufficient funds")
            sets = "balance = $2, "
            await self._save(db, step, "accounts", account, "MoneyWithdrawn", sets, balance)

        await self._once(step, "Withdraw", work)

    @activity.defn(name="bench_commit_stock")
    async def commit(self, step: Step) -> None:
        async def work(db: asyncpg.Connection) -> None:
            for line in sorted(step.job.lines, key=lambda line: line.sku):
                product = await db.fetchrow(LOCK.format("products"), line.sku)
                taken = await db.fetchval(TAKE_ROW, line.sku, step.job.order_id)
                if taken is None:
                    raise ValueError(f"no reservation of {line.sku}")
                sets = "on_hand = on_hand - $2, "
                await self._save(db, step, "products", product, "StockCommitted", sets, taken)

        await self._once(step, "CommitStock", work)

    @activity.defn(name="bench_confirm_order")
    async def confirm(self, step: Step) -> None:
        async def work(db: asyncpg.Connection) -> None:
            order = await db.fetchrow(LOCK.format("orders"), step.job.order_id)
            sets = "status = 'confirmed', "
            await self._save(db, step, "orders", order, "OrderConfirmed", sets)

        await self._once(step, "RecordOrderOutcome", work)


@workflow.defn(name="BenchOrder")
class BenchOrder:
    @workflow.run
    async def run(self, job: Job) -> None:
        wid = workflow.info().workflow_id

        async def step(name: str, total: str = "") -> Any:
            return await workflow.execute_activity(
                f"bench_{name}",
                Step(job, f"{wid}/{name}", total),
                start_to_close_timeout=timedelta(seconds=30),
            )

        total = await step("place_order")
        await step("reserve_stock")
        await step("charge", total)
        await step("commit_stock")
        await step("confirm_order")


async def main() -> None:
    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"])
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=20)
    a = Activities(pool)
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[BenchOrder],
        activities=[a.place, a.reserve, a.charge, a.commit, a.confirm],
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with worker:
        print("ready:", flush=True)
        await stop.wait()
    await pool.close()
