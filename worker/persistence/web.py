"""The front door's tables: API tokens, administrators, their console sessions, and the
idempotency keys of commands sent over HTTP."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ApiTokenRow(Model):
    """A bearer token, kept only as its SHA-256 (the token is shown once, at creation)."""

    name = fields.CharField(pk=True, max_length=64)
    scope = fields.CharField(max_length=8)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"


class AdministratorRow(Model):
    """Someone who may log in to the console: a viewer, an operator or an admin."""

    name = fields.CharField(pk=True, max_length=64)
    role = fields.CharField(max_length=16)
    password_hash = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    failed_logins = fields.IntField(default=0)
    last_failed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "administrator"


class ConsoleSessionRow(Model):
    """A logged-in administrator's session, found by the SHA-256 of its cookie's token."""

    id = fields.CharField(pk=True, max_length=64)
    administrator = fields.CharField(max_length=64, db_index=True)
    csrf_token = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "console_session"


class HttpCommandRow(Model):
    """An Idempotency-Key seen on POST /commands/{name}.

    The key is the message id it became; with it the SHA-256 of the parsed body it came
    with, and an outcome the inbox does not keep (``invalid``, heard from the worker's
    reply). Swept with the inbox.
    """

    idempotency_key = fields.CharField(pk=True, max_length=255)
    command = fields.CharField(max_length=64)
    body_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    status = fields.CharField(max_length=16, null=True)
    error_code = fields.CharField(max_length=64, null=True)
    error_message = fields.TextField(null=True)

    class Meta:
        table = "http_command"


__models__ = [ApiTokenRow, AdministratorRow, ConsoleSessionRow, HttpCommandRow]
