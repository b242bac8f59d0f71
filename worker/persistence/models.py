"""The framework's tables: inbox, outbox, audit log, worker secret (and the read side's, in
``read_side``, and the front door's, in ``web``). Each context keeps its own."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from worker.persistence import read_side, web


class InboxRow(Model):
    """One row per processed message id: the deduplication record."""

    message_id = fields.CharField(pk=True, max_length=255)
    command = fields.CharField(max_length=64)
    status = fields.CharField(max_length=16)
    error_code = fields.CharField(max_length=64, null=True)
    error_message = fields.TextField(null=True)
    correlation_id = fields.CharField(max_length=255, null=True)
    processed_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "inbox"


class OutboxRow(Model):
    """A committed domain event waiting to be (or already) published."""

    id = fields.BigIntField(pk=True)
    event_id = fields.CharField(max_length=64, unique=True)
    event_type = fields.CharField(max_length=128)
    aggregate_type = fields.CharField(max_length=64)
    aggregate_id = fields.CharField(max_length=64)
    aggregate_version = fields.IntField()
    payload = fields.TextField()
    correlation_id = fields.CharField(max_length=255, null=True)
    causation_id = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True, db_index=True)
    #: Its place in the event log, given by the relay before it publishes (None: not yet).
    position = fields.BigIntField(null=True, db_index=True)

    class Meta:
        table = "outbox"


class AuditRow(Model):
    """One operator action: who, when, what, on what, why, and the state before and after."""

    id = fields.BigIntField(pk=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    operator = fields.CharField(max_length=200)
    action = fields.CharField(max_length=64)
    target = fields.CharField(max_length=255)
    reason = fields.TextField()
    before = fields.TextField(null=True)
    after = fields.TextField(null=True)

    class Meta:
        table = "audit_log"


class WorkerSecret(Model):
    """A secret every worker of one database shares (the retry seal's key)."""

    name = fields.CharField(pk=True, max_length=64)
    value = fields.CharField(max_length=128)

    class Meta:
        table = "worker_secret"


#: The tables of the framework's tortoise app (imported classes are not registered).
__models__ = [InboxRow, OutboxRow, AuditRow, WorkerSecret, *read_side.__models__, *web.__models__]
