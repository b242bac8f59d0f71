"""Bearer tokens for the HTTP API: made once, kept only as their SHA-256, revocable.

A token is 32 random bytes, so a fast hash is enough: nobody can guess one to try
against the hash, unlike a password.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError

from worker.persistence.sql import dialect_sql
from worker.persistence.web import ApiTokenRow

SCOPES = ("read", "write")
#: Tokens start with it, so that a leaked one is recognisable (and found by secret scanners).
PREFIX = "bwt_"
VERIFY = "SELECT name, scope FROM api_token WHERE token_hash = ? AND revoked_at IS NULL"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class ApiToken:
    """Who a request's bearer token says it is, and what it may do."""

    name: str
    scope: str

    def allows(self, scope: str) -> bool:
        """``write`` includes ``read``."""
        return self.scope == scope or self.scope == "write"


class TokenExists(Exception):
    """A token of that name exists (revoked ones too: names are never reused)."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ValueError(
            f"bad name {name!r}: 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; choose from {', '.join(SCOPES)}")
    return scope


async def create_token(name: str, scope: str) -> str:
    """Store a new token's hash and return the token: the only time it is seen."""
    check_name(name)
    check_scope(scope)
    token = PREFIX + secrets.token_urlsafe(32)
    if await ApiTokenRow.exists(name=name):
        raise TokenExists(f"a token named {name!r} exists")
    try:
        await ApiTokenRow.create(name=name, scope=scope, token_hash=_hash(token))
    except IntegrityError as error:  # a concurrent create of the same name
        raise TokenExists(f"a token named {name!r} exists") from error
    return token


async def revoke_token(name: str) -> bool:
    """False when there is no such token; revoking twice keeps the first time."""
    row = await ApiTokenRow.get_or_none(name=name)
    if row is None:
        return False
    if row.revoked_at is None:
        await ApiTokenRow.filter(name=name, revoked_at=None).update(revoked_at=datetime.now(UTC))
    return True


async def list_tokens() -> list[dict[str, Any]]:
    """Every token's name, scope and dates; never its hash."""
    return [
        {
            "name": row.name,
            "scope": row.scope,
            "created_at": row.created_at.isoformat(),
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        }
        for row in await ApiTokenRow.all().order_by("name")
    ]


async def verify_token(presented: str) -> ApiToken | None:
    """The token's identity, or None when it is unknown or revoked (read on every request,
    so that a revocation takes effect on the next one)."""
    if not presented.startswith(PREFIX) or len(presented) > 128:
        return None
    # Plain SQL: this runs on every request, and the ORM's query building cost more
    # than the round trip (measured with py-spy under the HTTP benchmark).
    db = connections.get("default")
    _, rows = await db.execute_query(dialect_sql(db, VERIFY), [_hash(presented)])
    return ApiToken(str(rows[0]["name"]), str(rows[0]["scope"])) if rows else None
