"""Console sessions: a random token in a signed cookie, kept in the database only as its
SHA-256, with the session's CSRF token beside it.

A cookie's signature proves the server made it; the database row proves the session is
still open (logging out, or expiry, deletes it). The login form, which comes before any
session, carries a CSRF token of its own: a random nonce, signed in a cookie, repeated
in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, TimestampSigner

from worker.persistence.web import ConsoleSessionRow

COOKIE = "console_session"
LOGIN_COOKIE = "console_login"
#: The login form's nonce is good for this long: a form left open longer is reloaded.
LOGIN_SECONDS = 3600


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_token(presented: object, expected: str) -> bool:
    """Whether a form's token is the expected one (in constant time; a missing one never is)."""
    if not isinstance(presented, str) or not presented or not expected:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


@dataclass(frozen=True)
class OpenSession:
    id: str
    administrator: str
    csrf: str


def _open(row: ConsoleSessionRow) -> OpenSession:
    return OpenSession(row.id, row.administrator, row.csrf_token)


class Sessions:
    """Opens, finds and closes sessions; ``key`` is the signing key (read once, on first use)."""

    def __init__(self, hours: float, key: Callable[[], Awaitable[bytes]]) -> None:
        self.seconds = int(hours * 3600)
        self._key = key
        self._secret: bytes | None = None

    async def _signer(self, salt: str) -> TimestampSigner:
        if self._secret is None:
            self._secret = await self._key()
        return TimestampSigner(self._secret, salt=salt)

    async def _unsigned(self, salt: str, value: str | None, max_age: int) -> str | None:
        if not value:
            return None
        try:
            return (await self._signer(salt)).unsign(value, max_age=max_age).decode("utf-8")
        except (BadSignature, UnicodeDecodeError):
            return None

    async def open(self, administrator: str) -> tuple[str, OpenSession]:
        """A new session of ``administrator``: the cookie's value, and the session."""
        now = datetime.now(UTC)
        await ConsoleSessionRow.filter(expires_at__lte=now).delete()
        token = secrets.token_urlsafe(32)
        row = await ConsoleSessionRow.create(
            id=digest(token),
            administrator=administrator,
            csrf_token=secrets.token_urlsafe(32),
            expires_at=now + timedelta(seconds=self.seconds),
        )
        cookie = (await self._signer(COOKIE)).sign(token).decode("utf-8")
        return cookie, _open(row)

    async def find(self, cookie: str | None) -> OpenSession | None:
        """The open session a cookie names: None if it is forged, expired or closed."""
        token = await self._unsigned(COOKIE, cookie, self.seconds)
        if token is None:
            return None
        row = await ConsoleSessionRow.get_or_none(id=digest(token))
        if row is None:
            return None
        if row.expires_at <= datetime.now(UTC):
            await row.delete()
            return None
        return _open(row)

    async def close(self, session_id: str) -> None:
        await ConsoleSessionRow.filter(id=session_id).delete()

    async def login_nonce(self) -> tuple[str, str]:
        """A nonce for the login form, and the signed cookie that vouches for it."""
        nonce = secrets.token_urlsafe(24)
        return (await self._signer(LOGIN_COOKIE)).sign(nonce).decode("utf-8"), nonce

    async def is_login_nonce(self, cookie: str | None, presented: object) -> bool:
        nonce = await self._unsigned(LOGIN_COOKIE, cookie, LOGIN_SECONDS)
        return nonce is not None and same_token(presented, nonce)
