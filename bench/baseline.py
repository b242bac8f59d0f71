"""The hand-written baseline: aio-pika + asyncpg, the worker's database work, nothing else.

Per message, in one transaction: inbox insert (a duplicate is acked unchanged),
a versioned account update (retried on a conflict), an outbox insert; then the
ack. Same queue, same prefetch. Run: ``python -m bench.baseline`` (env: AMQP_URL,
DATABASE_URL as a postgres:// URL, PREFETCH).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from decimal import Decimal

import aio_pika
import asyncpg

INBOX = """INSERT INTO inbox (message_id, command, status, correlation_id, processed_at)
           VALUES ($1, 'Deposit', 'accepted', $2, now()) ON CONFLICT DO NOTHING"""
LOAD = "SELECT balance, version FROM accounts WHERE id = $1"
SAVE = """UPDATE accounts SET balance = $1, version = $2, updated_at = now()
          WHERE id = $3 AND version = $4"""
OUTBOX = """INSERT INTO outbox (event_id, event_type, aggregate_type, aggregate_id,
             aggregate_version, payload, correlation_id, causation_id, created_at)
           VALUES ($1, 'accounts.MoneyDeposited', 'accounts', $2, $3, $4, $5, $6, now())"""


class Conflict(Exception):
    pass


async def deposit(db: asyncpg.Connection, message: aio_pika.abc.AbstractIncomingMessage) -> None:
    body = json.loads(message.body)
    account, amount = body["account_id"], Decimal(body["amount"])
    async with db.transaction():
        if await db.execute(INBOX, message.message_id, message.correlation_id) == "INSERT 0 0":
            return  # a duplicate: already applied
        balance, version = await db.fetchrow(LOAD, account)
        balance += amount
        if await db.execute(SAVE, balance, version + 1, account, version) == "UPDATE 0":
            raise Conflict(account)
        payload = json.dumps(
            {
                "account_id": account,
                "amount": body["amount"],
                "currency": body["currency"],
                "balance": f"{balance:.2f}",
            }
        )
        await db.execute(
            OUTBOX,
            str(uuid.uuid4()),
            account,
            version + 1,
            payload,
            message.correlation_id,
            message.message_id,
        )


async def main() -> None:
    prefetch = int(os.environ.get("PREFETCH", "64"))
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=20)
    connection = await aio_pika.connect(os.environ["AMQP_URL"])
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=prefetch)
    queue = await channel.declare_queue("accounts.commands", passive=True)

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        while True:
            try:
                async with pool.acquire() as db:
                    await deposit(db, message)
                break
            except (Conflict, asyncpg.SerializationError, asyncpg.DeadlockDetectedError):
                await asyncio.sleep(0.001)
        await message.ack()

    await queue.consume(on_message)
    print("ready:", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await connection.close()
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
