"""A database as the release before the split left it: one tortoise app, "worker", for all.

``tests/integration/old_release`` holds that release's models and migrations verbatim
(``git show 83741ff:worker/adapters/...``); this module migrates and fills a database
with them, the way that release's ``db migrate`` and worker did.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate

from tests.integration.old_release import models

#: The previous release's migrations, in order; a database may stand at any of them.
MIGRATIONS = (
    "0001_initial",
    "0002_transfers",
    "0003_retention_indexes",
    "0004_audit",
    "0005_worker_secret",
)


def config(url: str) -> dict[str, Any]:
    """The previous release's tortoise configuration (its ``worker/adapters/database.py``)."""
    return {
        "connections": {"default": url},
        "apps": {
            "worker": {
                "models": ["tests.integration.old_release.models"],
                "migrations": "tests.integration.old_release.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def _closed() -> None:
    await connections.close_all()
    EXECUTOR_CACHE.clear()  # it caches SQL by table name: the new models share the names


async def migrate_as_previous_release(url: str, up_to: str = MIGRATIONS[-1]) -> None:
    """``db migrate`` of the previous release, stopped after ``up_to``."""
    try:
        await migrate(config=config(url), target=f"worker.{up_to}")
    finally:
        await _closed()


async def fill_as_previous_release(url: str) -> None:
    """Rows of every table, written by the previous release's models."""
    await Tortoise.init(config=config(url))
    try:
        await models.AccountRow.create(
            id="acc-ada",
            owner="Ada",
            currency="EUR",
            balance=Decimal("100.5"),
            status="open",
            version=3,
        )
        await models.AccountRow.create(
            id="acc-bob",
            owner="Bob",
            currency="EUR",
            balance=Decimal("0"),
            status="open",
            version=1,
        )
        await models.TransferRow.create(
            id="tr-1",
            from_account_id="acc-ada",
            to_account_id="acc-bob",
            amount=Decimal("10"),
            currency="EUR",
            state="requested",
            version=1,
        )
        await models.InboxRow.create(
            message_id="m-old-deposit",
            command="Deposit",
            status="accepted",
            correlation_id="corr-old",
        )
        await models.OutboxRow.create(
            event_id="ev-1",
            event_type="accounts.MoneyDeposited",
            aggregate_type="accounts",
            aggregate_id="acc-ada",
            aggregate_version=3,
            payload='{"amount": "0.5"}',
            sent_at=datetime(2026, 11, 30, tzinfo=UTC),
        )
        await models.AuditRow.create(
            operator="ops", action="dlq.retry", target="accounts.commands.dlq", reason="drill"
        )
        await models.WorkerSecret.create(name="retry-seal", value="s" * 64)
    finally:
        await _closed()


#: The tables ``fill_as_previous_release`` writes.
FILLED_TABLES = ["accounts", "transfers", "inbox", "outbox", "audit_log", "worker_secret"]
