"""The retry seal's key: ``RETRY_SEAL_KEY``, or one made once and kept in the database."""

from __future__ import annotations

import asyncio
import logging
import secrets

from tortoise import connections

from worker.config import Settings
from worker.messaging.retry_seal import RetrySeal
from worker.persistence.sql import dialect_sql

log = logging.getLogger("worker")
RETRY_SEAL = "retry-seal"
#: A database that hangs at start must not hang the worker without a word.
KEY_TIMEOUT = 10.0


class SealUnavailable(Exception):
    """The key could not be read (the database is down or hangs): try again later."""


async def load_retry_seal(settings: Settings) -> RetrySeal:
    try:
        key = await asyncio.wait_for(retry_seal_key(settings), KEY_TIMEOUT)
    except Exception as error:
        reason = str(error) or type(error).__name__
        raise SealUnavailable(f"cannot read the retry seal's key: {reason}") from error
    seal = RetrySeal(key)
    # Workers sealing with different keys would reset each other's counts.
    log.info("retry seal key %s", seal.fingerprint())
    return seal


async def retry_seal_key(settings: Settings) -> bytes:
    """The key every worker of this database seals its retry counts with.

    The first worker to ask makes it; the others read the same row (the insert
    does nothing when it exists), so workers agree without being configured.
    """
    if settings.retry_seal_key:
        return settings.retry_seal_key.encode("utf-8")
    return await shared_secret(RETRY_SEAL)


async def shared_secret(name: str) -> bytes:
    """A random secret every process of this database shares, made by the first to ask
    (the insert does nothing when the row exists)."""
    db = connections.get("default")
    await db.execute_query(
        dialect_sql(
            db,
            "INSERT INTO worker_secret (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        ),
        [name, secrets.token_hex(32)],
    )
    _, rows = await db.execute_query(
        dialect_sql(db, "SELECT value FROM worker_secret WHERE name = ?"), [name]
    )
    return str(rows[0]["value"]).encode("utf-8")
