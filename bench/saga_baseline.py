"""The saga baseline: a bare Temporal workflow with two activities doing the SQL by hand.

Withdraw, then deposit; each activity runs, in one transaction, what the worker
does for that step (inbox insert, versioned account update, outbox insert).
Started by ``bench.sagas`` (env: TEMPORAL_ADDRESS, DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    # Re-imported inside the workflow sandbox, asyncpg's C extension crashes the process.
    import asyncpg

TASK_QUEUE = "bench-baseline"
INBOX = """INSERT INTO inbox (message_id, command, status, processed_at)
           VALUES ($1, $2, 'accepted', now()) ON CONFLICT DO NOTHING"""
LOAD = "SELECT balance, version FROM accounts WHERE id = $1 FOR UPDATE"
SAVE = "UPDATE accounts SET balance = $1, version = $2, updated_at = now() WHERE id = $3"
OUTBOX = """INSERT INTO outbox (event_id, event_type, aggregate_type, aggregate_id,
             aggregate_version, payload, causation_id, created_at)
           VALUES ($1, $2, 'accounts', $3, $4, $5, $6, now())"""


@dataclass
class Step:
    account_id: str
    amount: str
    key: str


@dataclass
class Move:
    source: str
    target: str
    amount: str


class Activities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def _apply(self, step: Step, sign: int, command: str) -> None:
        async with self.pool.acquire() as db, db.transaction():
            if await db.execute(INBOX, step.key, command) == "INSERT 0 0":
                return
            balance, version = await db.fetchrow(LOAD, step.account_id)
            balance += sign * Decimal(step.amount)
            if balance < 0:
                raise ValueError("insufficient funds")
            await db.execute(SAVE, balance, version + 1, step.account_id)
            payload = json.dumps({"account_id": step.account_id, "amount": step.amount})
            await db.execute(
                OUTBOX,
                str(uuid.uuid4()),
                f"accounts.Money{command}",
                step.account_id,
                version + 1,
                payload,
                step.key,
            )

    @activity.defn(name="bench_withdraw")
    async def withdraw(self, step: Step) -> None:
        await self._apply(step, -1, "Withdraw")

    @activity.defn(name="bench_deposit")
    async def deposit(self, step: Step) -> None:
        await self._apply(step, +1, "Deposit")


@workflow.defn(name="BenchTransfer")
class BenchTransfer:
    @workflow.run
    async def run(self, move: Move) -> None:
        wid = workflow.info().workflow_id
        timeout = timedelta(seconds=30)
        await workflow.execute_activity(
            "bench_withdraw",
            Step(move.source, move.amount, f"{wid}/withdraw"),
            start_to_close_timeout=timeout,
        )
        await workflow.execute_activity(
            "bench_deposit",
            Step(move.target, move.amount, f"{wid}/deposit"),
            start_to_close_timeout=timeout,
        )


async def main() -> None:
    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"])
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=20)
    activities = Activities(pool)
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[BenchTransfer],
        activities=[activities.withdraw, activities.deposit],
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with worker:
        print("ready:", flush=True)
        await stop.wait()
    await pool.close()
