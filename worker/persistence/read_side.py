"""The read side's tables: the event log, each handler's state, what it handled, and the
commands policies issue (their outbox)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class EventLogRow(Model):
    """One committed event, kept: ``position`` is gap-free, given by the single relay."""

    position = fields.BigIntField(pk=True, generated=False)
    event_id = fields.CharField(max_length=64, unique=True)
    event_type = fields.CharField(max_length=128, db_index=True)
    aggregate_type = fields.CharField(max_length=64)
    aggregate_id = fields.CharField(max_length=64)
    aggregate_version = fields.IntField()
    payload = fields.TextField()
    correlation_id = fields.CharField(max_length=255, null=True)
    causation_id = fields.CharField(max_length=255, null=True)
    occurred_at = fields.DatetimeField()
    logged_at = fields.DatetimeField()

    class Meta:
        table = "event_log"
        indexes = (("aggregate_type", "aggregate_id", "aggregate_version"), ("causation_id",))


class HandlerStateRow(Model):
    """A handler's low-water mark, its live generation, its health, and a running rebuild."""

    name = fields.CharField(pk=True, max_length=100)
    kind = fields.CharField(max_length=16)
    generation = fields.IntField(default=1)
    #: Every event of its types at or below this position has been applied.
    position = fields.BigIntField(default=0)
    #: A policy ignores events at or below the log head it first started at.
    started_position = fields.BigIntField(default=0)
    last_applied_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    last_error_at = fields.DatetimeField(null=True)
    #: When a process running the handler last said it was alive.
    seen_at = fields.DatetimeField(null=True)
    rebuild_owner = fields.CharField(max_length=255, null=True)
    rebuild_started_at = fields.DatetimeField(null=True)

    class Meta:
        table = "handler_state"


class HandledEventRow(Model):
    """The exactly-once record: this handler applied this event (in that same transaction)."""

    id = fields.BigIntField(pk=True)
    handler = fields.CharField(max_length=100)
    event_id = fields.CharField(max_length=64)
    position = fields.BigIntField()
    handled_at = fields.DatetimeField()

    class Meta:
        table = "handled_events"
        unique_together = (("handler", "event_id"),)
        indexes = (("handler", "position"),)


class ProjectionCursorRow(Model):
    """The last version of one aggregate a projection's generation applied."""

    id = fields.BigIntField(pk=True)
    #: ``<projection>@<generation>``: a rebuild keeps cursors of its own.
    handler = fields.CharField(max_length=120)
    aggregate_type = fields.CharField(max_length=64)
    aggregate_id = fields.CharField(max_length=64)
    version = fields.IntField()

    class Meta:
        table = "projection_cursors"
        unique_together = (("handler", "aggregate_type", "aggregate_id"),)


class CommandOutboxRow(Model):
    """A command a policy issued, committed with its handled record, relayed sealed."""

    id = fields.BigIntField(pk=True)
    message_id = fields.CharField(max_length=255, unique=True)
    command = fields.CharField(max_length=64)
    body = fields.TextField()
    correlation_id = fields.CharField(max_length=255, null=True)
    causation_id = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "command_outbox"


__models__ = [EventLogRow, HandlerStateRow, HandledEventRow, ProjectionCursorRow, CommandOutboxRow]
