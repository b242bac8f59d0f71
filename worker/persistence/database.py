"""Connecting tortoise, running its migrations, and checking the database is up."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as tortoise_migrate

from worker.config import Settings
from worker.context import ContextConflict

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


#: The framework's tortoise app (inbox, outbox, audit log, worker secret). Each context
#: with tables is an app of its own, labelled by the context's name.
FRAMEWORK_MODELS = "worker.persistence.models"
FRAMEWORK_MIGRATIONS = "worker.persistence.migrations"


def _app(models: str, migrations: str | None) -> dict[str, Any]:
    return {"models": [models], "migrations": migrations, "default_connection": "default"}


def tortoise_apps(contexts: Contexts) -> dict[str, dict[str, Any]]:
    """The framework's app, then one app per context that declares tables."""
    apps = {APP: _app(FRAMEWORK_MODELS, FRAMEWORK_MIGRATIONS)}
    for name, (models, migrations) in contexts.tortoise_apps.items():
        if name == APP:
            raise ContextConflict(f"the tortoise app {APP!r} is the framework's, not a context's")
        apps[name] = _app(models, migrations)
    return apps


def tortoise_config(settings: Settings, contexts: Contexts) -> dict[str, Any]:
    """Tortoise's configuration: the framework's app and every context's, on one connection.

    One connection keeps them one migration plan: a context's first migration depends
    on the framework's, and ``migrate`` applies them all in that order.
    """
    return {
        "connections": {"default": _connection(settings.database_url, settings.db_pool_size)},
        "apps": tortoise_apps(contexts),
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
    from worker.readside.runner import prepare_read_side

    _ensure_sqlite_directory(settings)
    config = tortoise_config(settings, contexts)
    try:
        await tortoise_migrate(config=config)
        await Tortoise.init(config=config)
        # The read models' tables are no migration: each projection generation has its own.
        await prepare_read_side(contexts.subscriptions)
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


#: A table of the framework's first migration and of its latest ones: a database migrated
#: by an older release fails here, with the migrate hint, not later in a session.
SCHEMA_PROBES = ("inbox", "worker_secret", "event_log")


def schema_probes() -> tuple[str, ...]:
    """The framework's probes, then each context's first table (once tortoise is up)."""
    apps = Tortoise.apps.items() if Tortoise.apps is not None else ()
    firsts = (
        next(iter(models.values()))._meta.db_table
        for label, models in apps
        if label != APP and models
    )
    return (*SCHEMA_PROBES, *firsts)


async def check_schema() -> None:
    """Fail (with the database's own error) if the migrations have not been applied."""
    db = connections.get("default")
    for table in schema_probes():
        await db.execute_query(f"SELECT 1 FROM {table} WHERE 1 = 0")
