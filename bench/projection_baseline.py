"""The hand-written projection baseline: aio-pika + asyncpg, one INSERT per event, nothing else.

It consumes the queue the worker's ``account_statement`` handler consumes, with the
same prefetch, and per delivery writes the statement row from the message itself (its
body and headers) with ``INSERT ... ON CONFLICT (account_id, version) DO NOTHING``,
then acks. It does not read the event from the log, keep a handled record or a
cursor per account, apply an account's events in version order, or fill gaps: all
of which the worker does. Run: ``python -m bench.projection_baseline`` (env: AMQP_URL,
DATABASE_URL as a postgres:// URL, PREFETCH).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal

import aio_pika
import asyncpg

#: The worker's handler queue for ``account_statement`` (``<handler>.events``).
QUEUE = "account_statement.events"
STATEMENT_TABLE = "bench_statement"
#: The columns of the worker's ``account_statement`` table.
STATEMENT_DDL = f"""CREATE TABLE IF NOT EXISTS {STATEMENT_TABLE} (
    account_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    position BIGINT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    balance TEXT NOT NULL,
    currency TEXT NOT NULL,
    cause TEXT,
    PRIMARY KEY (account_id, version)
)"""
INSERT = f"""INSERT INTO {STATEMENT_TABLE} (account_id, version, position, at, kind, amount,
               balance, currency, cause) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (account_id, version) DO NOTHING"""
WITHDRAWN = "accounts.MoneyWithdrawn"


def statement_row(message: aio_pika.abc.AbstractIncomingMessage) -> list[object]:
    payload = json.loads(message.body)
    headers = message.headers
    withdrawn = message.type == WITHDRAWN
    return [
        str(headers["aggregate-id"]),
        int(str(headers["aggregate-version"])),
        int(str(headers["event-position"])),
        payload["occurred_at"],
        "withdrawal" if withdrawn else "deposit",
        f"-{payload['amount']}" if withdrawn else payload["amount"],
        payload["balance"],
        payload["currency"],
        headers.get("causation-id"),
    ]


async def main() -> None:
    prefetch = int(os.environ.get("PREFETCH", "64"))
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=20)
    connection = await aio_pika.connect(os.environ["AMQP_URL"])
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=prefetch)
    queue = await channel.declare_queue(QUEUE, passive=True)

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with pool.acquire() as db:
            await db.execute(INSERT, *statement_row(message))
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
