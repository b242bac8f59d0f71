"""``Idempotency-Key``: read it as the worker will take the message id, and keep it durably
with what it was first sent with, so that a key never comes to mean two commands."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from starlette.datastructures import Headers
from tortoise import connections

from worker.bus.message_ids import IdProblem, check_message_id
from worker.bus.registry import CommandRegistry
from worker.persistence.sql import db_values, dialect_sql, inserted, now
from worker.persistence.web import HttpCommandRow
from worker.web.problems import FieldError, Problem

HEADER = "Idempotency-Key"
#: One statement on the hot path: the key is stored unless it is stored already, or is the
#: id of a message the worker has processed (sent over AMQP, say: then it is someone else's).
CLAIM = (
    "INSERT INTO http_command (idempotency_key, command, body_hash, created_at) "
    "SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM inbox WHERE message_id = ?) "
    "ON CONFLICT DO NOTHING"
)
RELEASE = "DELETE FROM http_command WHERE idempotency_key = ? AND status IS NULL"


def _problem(code: str, detail: str) -> Problem:
    return Problem(400, code, detail, [FieldError(HEADER, code, detail)])


def idempotency_key(headers: Headers, commands: CommandRegistry) -> str:
    """The header's value if it can be the message id; else a 400 naming the header."""
    values = headers.getlist(HEADER)
    if not values:
        raise _problem("missing_idempotency_key", f"the {HEADER} header is required")
    if len(values) > 1:
        raise _problem("duplicate_idempotency_key", f"send the {HEADER} header once")
    try:  # HTTP headers travel as bytes; ours are UTF-8 (Starlette decoded them as Latin-1)
        key = values[0].encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise _problem("invalid_message_id", f"the {HEADER} header is not UTF-8") from None
    try:
        return commands.check_message_id(key)
    except IdProblem as problem:
        detail = problem.message.replace("message id", HEADER, 1)
        raise _problem(problem.code, detail) from None


def stored_id(value: str, field: str, code: str | None = None) -> str:
    """``value`` if the database can hold it as an id (any the inbox may hold: a saga
    step's or a policy's too); else a 400 naming ``field``."""
    try:
        return check_message_id(value, None, sealed_later=True)
    except IdProblem as problem:
        detail = problem.message.replace("the message id", field, 1)
        code = code or problem.code
        raise Problem(400, code, detail, [FieldError(field, code, detail)]) from None


def body_hash(body: bytes) -> str:
    """The SHA-256 of the parsed command's canonical JSON (``model_dump_json``): the same
    fields in any order, with any spacing, are the same body."""
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class Claim:
    """Whether this request is the first to use its key, and how long ago the first did."""

    first: bool
    age_seconds: float = 0.0


def _conflict(detail: str) -> Problem:
    field = FieldError(HEADER, "conflict", detail)
    return Problem(422, "idempotency_key_conflict", detail, [field])


async def claim(key: str, command: str, body: bytes) -> Claim:
    """Store the key for ``command`` with ``body`` (its canonical JSON), or find it stored
    for the same command and body; a key stored for anything else, or already the id of a
    message the worker processed, is a 422 ``idempotency_key_conflict``."""
    db = connections.get("default")
    digest = body_hash(body)
    row = {"idempotency_key": key, "command": command, "body_hash": digest, "created_at": now()}
    if await inserted(db, CLAIM, [*db_values(HttpCommandRow, row), key]):
        return Claim(first=True)
    stored = await HttpCommandRow.get_or_none(idempotency_key=key)
    if stored is None:  # the worker has a message of that id, which no key of ours made
        detail = f"the {HEADER} is the id of a message sent otherwise; use a new key"
        raise _conflict(detail)
    if stored.command != command or stored.body_hash != digest:
        what = "another command" if stored.command != command else "a different body"
        raise _conflict(f"the {HEADER} was first used with {what}; use a new key for a new command")
    return Claim(first=False, age_seconds=(now() - stored.created_at).total_seconds())


async def release(key: str) -> None:
    """Forget a key whose command could not be published, so that a retry starts afresh."""
    db = connections.get("default")
    await db.execute_query(dialect_sql(db, RELEASE), [key])
