"""The operator audit trail: every DLQ and saga action, who did it, when, why, before and after.

An operator action without its audit record is not acceptable, so callers check
the database is reachable before acting (see ``worker.ops.audit``) and
record the action once it is done. Tortoise must be connected (``database.connect``).
"""

from __future__ import annotations

import getpass
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from worker.persistence.models import AuditRow


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    operator: str
    action: str
    target: str
    reason: str
    before: Any
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


def default_operator() -> str:
    """The user running the command ($USER, else the login name), ``"unknown"`` if neither."""
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # no $USER/$LOGNAME and no passwd entry (a bare container)
        return "unknown"


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        operator=row.operator,
        action=row.action,
        target=row.target,
        reason=row.reason,
        before=_load(row.before),
        after=_load(row.after),
    )


async def record_action(
    operator: str,
    action: str,
    target: str,
    reason: str,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Write one audit row; ``before`` and ``after`` are stored as JSON (``None`` stays NULL)."""
    row = await AuditRow.create(
        operator=operator,
        action=action,
        target=target,
        reason=reason,
        before=_dump(before),
        after=_dump(after),
    )
    return _entry(row)


async def list_actions(
    limit: int = 50,
    action: str | None = None,
    target: str | None = None,
    operator: str | None = None,
) -> list[AuditEntry]:
    """The newest ``limit`` actions, optionally of one action (or prefix: ``dlq``), target
    or operator.

    A prefix matches whole dotted parts: ``dlq`` finds ``dlq.retry``, not ``dlqx.retry``.
    """
    query = AuditRow.all()
    if operator is not None:
        query = query.filter(operator=operator)
    if action is not None:
        prefix = action.rstrip(".")
        query = query.filter(Q(action=prefix) | Q(action__startswith=f"{prefix}."))
    if target is not None:
        query = query.filter(target=target)
    return [_entry(row) for row in await query.order_by("-at", "-id").limit(limit)]
