"""Each context's tables are a tortoise app of its own: used, checked and migrated as such."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from tests.integration.database_snapshot import execute, query
from tests.integration.empty_databases import (
    NewDatabase,
    migrate,
    new_database,
    previous_release_database,
)
from tests.wiring import COMMANDS, CONTEXTS, HANDLERS, tortoise_uow_factory
from worker.bus.messagebus import MessageBus
from worker.bus.outcomes import Outcome, Status
from worker.bus.unit_of_work import MessageContext
from worker.cli.errors import DATABASE_ERRORS, missing_schema
from worker.config import Settings
from worker.persistence import database

pytestmark = pytest.mark.integration

__all__ = ["new_database"]  # the fixture


async def test_commands_run_against_a_database_the_previous_release_left(
    new_database: NewDatabase,
) -> None:
    url = await previous_release_database(new_database)
    await migrate(url)
    await database.connect(Settings(database_url=url), CONTEXTS)
    await database.check_schema()
    bus = MessageBus(tortoise_uow_factory, HANDLERS)

    async def handle(command: str, fields: dict[str, str], message_id: str) -> Outcome:
        parsed = COMMANDS.parse(command, fields, internal=True)
        return await bus.handle(parsed, MessageContext(message_id, command, None))

    deposit = {"account_id": "acc-ada", "amount": "25", "currency": "EUR"}
    try:
        replayed = await handle("Deposit", deposit, "m-old-deposit")
        deposited = await handle("Deposit", deposit, "m-new-deposit")
        ended = await handle(
            "RecordTransferOutcome", {"transfer_id": "tr-1", "state": "completed"}, "m-tr"
        )
    finally:
        await database.close()

    assert (replayed.status, replayed.duplicate) == (Status.ACCEPTED, True)
    assert (deposited.status, ended.status) == (Status.ACCEPTED, Status.ACCEPTED)
    [(balance, version)] = await query(
        url, "SELECT balance, version FROM accounts WHERE id = 'acc-ada'"
    )
    assert (Decimal(str(balance)), version) == (Decimal("125.5"), 4)
    assert await query(url, "SELECT state, version FROM transfers") == [("completed", 2)]
    events = await query(url, "SELECT event_type FROM outbox ORDER BY id")
    assert events[1:] == [("accounts.MoneyDeposited",), ("transfers.TransferCompleted",)]


async def test_a_database_missing_a_context_s_tables_is_refused_with_the_migrate_hint(
    new_database: NewDatabase,
) -> None:
    url = await new_database()
    await migrate(url)
    await execute(
        url,
        "DROP TABLE transfers",
        "DELETE FROM tortoise_migrations WHERE app = 'transfers'",
    )
    await database.connect(Settings(database_url=url), CONTEXTS)
    try:
        with pytest.raises(DATABASE_ERRORS, match="transfers") as refused:
            await database.check_schema()
    finally:
        await database.close()
    assert missing_schema(refused.value) == "table"

    await migrate(url)
    await database.connect(Settings(database_url=url), CONTEXTS)
    try:
        await database.check_schema()
        assert database.schema_probes() == (
            *("inbox", "worker_secret", "event_log", "accounts", "transfers"),
            *("customers", "products", "orders"),
        )
    finally:
        await database.close()


async def test_each_context_s_models_match_its_migrations() -> None:
    config = database.tortoise_config(Settings(database_url="sqlite://:memory:"), CONTEXTS)
    await Tortoise.init(config=config, init_connections=False)
    try:
        assert Tortoise.apps is not None
        changes = await MigrationAutodetector(Tortoise.apps, config["apps"]).changes()
        owners = {label: list(models) for label, models in Tortoise.apps.items()}
    finally:
        await database.close()
    assert [change.name for change in changes] == []
    assert owners == {
        "worker": [
            *("InboxRow", "OutboxRow", "AuditRow", "WorkerSecret", "EventLogRow"),
            *("HandlerStateRow", "HandledEventRow", "ProjectionCursorRow", "CommandOutboxRow"),
            *("ApiTokenRow", "AdministratorRow", "ConsoleSessionRow", "HttpCommandRow"),
        ],
        "accounts": ["AccountRow"],
        "transfers": ["TransferRow"],
        "customers": ["CustomerRow"],
        "catalog": ["ProductRow", "ReservationRow"],
        "orders": ["OrderRow", "OrderLineRow"],
    }
