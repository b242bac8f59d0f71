"""A saga's business record as the framework reads it: its own state, and what asked for it."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise import connections

from worker.persistence.models import OutboxRow
from worker.persistence.sql import dialect_sql
from worker.sagas.declaration import CONFLICTED, SagaDeclaration


@dataclass(frozen=True)
class RecordState:
    state: str
    reason: str

    @property
    def conflicted(self) -> bool:
        return self.state == CONFLICTED


async def record_state(saga: SagaDeclaration, business_id: str) -> RecordState | None:
    """The record of ``business_id`` (tortoise connected), or ``None`` if there is none."""
    record = saga.record
    db = connections.get("default")
    _, rows = await db.execute_query(
        dialect_sql(
            db,
            f'SELECT "{record.state_column}" AS state, "{record.reason_column}" AS reason '
            f'FROM "{record.table}" WHERE "{record.id_column}" = ?',
        ),
        [business_id],
    )
    if not rows:
        return None
    return RecordState(state=str(rows[0]["state"]), reason=str(rows[0]["reason"] or ""))


async def requesting_event(saga: SagaDeclaration, business_id: str) -> str | None:
    """The id of the event that requested the record's run, while the outbox keeps it.

    Read once per command, not per poll: the outbox has no index on the aggregate.
    """
    requested = (
        await OutboxRow.filter(event_type=saga.started_by, aggregate_id=business_id)
        .order_by("-id")
        .first()
    )
    return None if requested is None else requested.event_id
