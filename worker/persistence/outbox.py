"""An event's outbox row: what the unit of work inserts beside the aggregate's change."""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.shared.model import DomainEvent
from worker.bus.unit_of_work import MessageContext


def outbox_columns(event: DomainEvent, context: MessageContext) -> dict[str, Any]:
    """The outbox row of an event, as column values (inserted by hand on the hot path)."""
    body = {**event.payload(), "occurred_at": event.occurred_at.isoformat()}
    return {
        "event_id": event.event_id,
        "event_type": event.type_name(),
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "aggregate_version": event.aggregate_version,
        "payload": json.dumps(jsonable(body), separators=(",", ":")),
        "correlation_id": context.correlation_id,
        "causation_id": context.message_id,
        "created_at": event.occurred_at,
    }


def jsonable(value: Any) -> Any:
    """``value`` as JSON values, exactly: decimals as strings (never floats), nested
    value objects (dataclasses) as objects, enums by value, times in ISO 8601.

    Anything else is a bug in an event's fields and raises :class:`TypeError` here,
    in the handler's transaction, rather than being stored as its ``str()``.
    """
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {_key(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"an event field holds a {type(value).__name__}, which has no JSON form")


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"an event field's object has a {type(key).__name__} key")
    return key
