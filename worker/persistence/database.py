"""Connecting tortoise, running its migrations, and checking the database is up."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as tortoise_migrate

from worker.config import Settings

if TYPE_CHECKING:
    from worker.context import Contexts

APP = "worker"


def _with_pool_size(url: str, size: int) -> str:
    if not url.startswith(("postgres://", "postgresql://", "asyncpg://")) or "maxsize=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}minsize=1&maxsize={size}"


class SessionlessConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection released without its reset round trip.

    asyncpg resets session state (advisory locks, LISTEN, settings) on every
    release: one more round trip per message. The worker keeps no session
    state: its only advisory lock is transaction-scoped, and an open transaction
    is still rolled back on release.
    """

    def get_reset_query(self) -> str:
        return ""


def _connection(url: str, pool_size: int) -> str | dict[str, Any]:
    url = _with_pool_size(url, pool_size)
    if not url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        return url
    config: dict[str, Any] = expand_db_url(url)
    config["credentials"]["connection_class"] = SessionlessConnection
    return config


#: The framework's own tables (inbox, outbox, audit log, worker secret).
FRAMEWORK_MODELS = "worker.persistence.models"


def tortoise_config(settings: Settings, contexts: Contexts) -> dict[str, Any]:
    """Tortoise's configuration: the framework's tables and every context's."""
    models = [FRAMEWORK_MODELS, *(models for models, _ in contexts.tortoise_apps.values())]
    return {
        "connections": {"default": _connection(settings.database_url, settings.db_pool_size)},
        "apps": {
            APP: {
                "models": models,
                "migrations": "worker.persistence.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_directory(settings: Settings) -> None:
    if settings.is_sqlite:
        path = settings.database_url.split("://", 1)[1].split("?", 1)[0]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


async def connect(settings: Settings, contexts: Contexts) -> None:
    _ensure_sqlite_directory(settings)
    await Tortoise.init(config=tortoise_config(settings, contexts))


async def migrate(settings: Settings, contexts: Contexts) -> None:
    """Apply tortoise's migrations (idempotent: applied ones are skipped)."""
    _ensure_sqlite_directory(settings)
    try:
        await tortoise_migrate(config=tortoise_config(settings, contexts))
    finally:
        await close()


async def close() -> None:
    await connections.close_all()


async def is_reachable() -> bool:
    """Whether a trivial query succeeds right now."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True


#: A table of the first migration and one of the latest: a database migrated by an
#: older release fails here, with the migrate hint, not later in a session.
SCHEMA_PROBES = ("inbox", "worker_secret")


async def check_schema() -> None:
    """Fail (with the database's own error) if the migrations have not been applied."""
    db = connections.get("default")
    for table in SCHEMA_PROBES:
        await db.execute_query(f"SELECT 1 FROM {table} WHERE 1 = 0")
