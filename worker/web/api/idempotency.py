"""``Idempotency-Key``: read it as the worker will take the message id, and keep it durably
with what it was first sent with, so that a key never comes to mean two commands."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from starlette.requests import Request
from tortoise.exceptions import IntegrityError

from worker.bus.commands import Command
from worker.bus.message_ids import IdProblem, check_message_id
from worker.bus.registry import CommandRegistry
from worker.persistence.web import HttpCommandRow
from worker.web.problems import FieldError, Problem

HEADER = "Idempotency-Key"


def _problem(code: str, detail: str) -> Problem:
    return Problem(400, code, detail, [FieldError(HEADER, code, detail)])


def idempotency_key(request: Request, commands: CommandRegistry) -> str:
    """The header's value if it can be the message id; else a 400 naming the header."""
    raw = request.headers.get(HEADER)
    if raw is None:
        raise _problem("missing_idempotency_key", f"the {HEADER} header is required")
    try:  # HTTP headers travel as bytes; ours are UTF-8 (Starlette decoded them as Latin-1)
        key = raw.encode("latin-1").decode("utf-8")
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


def body_hash(command: Command) -> str:
    """The SHA-256 of the parsed command's canonical JSON: the same fields in any order,
    with any spacing, are the same body."""
    return hashlib.sha256(command.model_dump_json().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Claim:
    """A key and whether this request is the first to use it."""

    key: str
    first: bool


async def claim(key: str, command: Command) -> Claim:
    """Store the key for ``command``, or find it stored for the same command and body;
    a key stored for anything else is a 422 ``idempotency_key_conflict``."""
    name, digest = command.name(), body_hash(command)
    try:
        await HttpCommandRow.create(idempotency_key=key, command=name, body_hash=digest)
        return Claim(key, first=True)
    except IntegrityError:
        pass  # used before, or at this moment by a concurrent request
    stored = await HttpCommandRow.get(idempotency_key=key)
    if stored.command != name or stored.body_hash != digest:
        what = "another command" if stored.command != name else "a different body"
        detail = f"the {HEADER} was first used with {what}; use a new key for a new command"
        raise Problem(
            422, "idempotency_key_conflict", detail, [FieldError(HEADER, "conflict", detail)]
        )
    return Claim(key, first=False)
