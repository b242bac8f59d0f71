"""The console's administrators: roles, argon2 password hashes, and a delay that grows
with each failed login of a name."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from worker.persistence.web import AdministratorRow, ConsoleSessionRow
from worker.web.tokens import check_name

ROLES = ("viewer", "operator", "admin")
#: look: every page; act: dead letters and sagas; manage: administrators and API tokens.
PERMISSIONS = {
    "viewer": frozenset({"look"}),
    "operator": frozenset({"look", "act"}),
    "admin": frozenset({"look", "act", "manage"}),
}
MIN_PASSWORD = 8
MAX_DELAY = 60.0
_hasher = PasswordHasher()


@functools.cache
def _unknown() -> str:
    """Verified against when the name is unknown, so that a wrong name costs as long as a
    wrong password and the answer's time tells nothing. Made on first use: hashing at
    import would cost every CLI command ~0.2 s."""
    return _hasher.hash("not anybody's password")


@dataclass(frozen=True)
class Administrator:
    name: str
    role: str

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


class AdministratorExists(Exception):
    pass


class LoginRefused(Exception):
    """``retry_after`` None: wrong name or password (which is not said); otherwise the
    seconds to wait after the name's failed logins before it may try again."""

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__(
            "wrong name or password"
            if retry_after is None
            else f"too many failed logins: try again in {retry_after:.0f} s"
        )
        self.retry_after = retry_after


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
    return password


def delay_after(failures: int) -> float:
    """1, 2, 4, ... seconds after the 1st, 2nd, 3rd ... consecutive failure; at most 60."""
    return 0.0 if failures <= 0 else min(MAX_DELAY, 2.0 ** (failures - 1))


async def _hash(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def _matches(hashed: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(_hasher.verify, hashed, password)
    except (VerificationError, InvalidHashError):
        return False


async def add_administrator(name: str, role: str, password: str) -> None:
    check_name(name)
    check_role(role)
    check_password(password)
    hashed = await _hash(password)
    if await AdministratorRow.exists(name=name):
        raise AdministratorExists(f"an administrator named {name!r} exists")
    try:
        await AdministratorRow.create(name=name, role=role, password_hash=hashed)
    except IntegrityError as error:
        raise AdministratorExists(f"an administrator named {name!r} exists") from error


async def set_role(name: str, role: str) -> bool:
    return await AdministratorRow.filter(name=name).update(role=check_role(role)) > 0


async def set_password(name: str, password: str) -> bool:
    """A new password ends the name's console sessions."""
    hashed = await _hash(check_password(password))
    async with in_transaction():
        await ConsoleSessionRow.filter(administrator=name).delete()
        return await AdministratorRow.filter(name=name).update(password_hash=hashed) > 0


async def remove_administrator(name: str) -> bool:
    """Removing ends the name's console sessions too, so that adding the name again later
    brings none of them back."""
    async with in_transaction():
        await ConsoleSessionRow.filter(administrator=name).delete()
        return await AdministratorRow.filter(name=name).delete() > 0


async def list_administrators() -> list[Administrator]:
    return [Administrator(r.name, r.role) for r in await AdministratorRow.all().order_by("name")]


async def find_administrator(name: str) -> Administrator | None:
    row = await AdministratorRow.get_or_none(name=name)
    return None if row is None else Administrator(row.name, row.role)


async def log_in(name: str, password: str) -> Administrator:
    """The administrator, or LoginRefused; a failure makes the name's next try wait longer.

    Each try is counted as a failure before the password is checked, by a compare-and-set
    on the count: of tries made at once, one goes on and the others are refused unchecked,
    so guessing in parallel gains nothing. A right password clears the count.
    """
    row = await AdministratorRow.get_or_none(name=name)
    if row is None:
        await _matches(await asyncio.to_thread(_unknown), password)
        raise LoginRefused()
    if row.last_failed_at is not None:
        waited = (datetime.now(UTC) - row.last_failed_at).total_seconds()
        wait = delay_after(row.failed_logins) - waited
        if wait > 0:
            raise LoginRefused(retry_after=max(1.0, wait))
    counted = await AdministratorRow.filter(name=name, failed_logins=row.failed_logins).update(
        failed_logins=row.failed_logins + 1, last_failed_at=datetime.now(UTC)
    )
    if not counted:  # another try of this name got there first
        raise LoginRefused(retry_after=delay_after(row.failed_logins + 1))
    if not await _matches(row.password_hash, password):
        raise LoginRefused()
    await AdministratorRow.filter(name=name).update(failed_logins=0, last_failed_at=None)
    return Administrator(row.name, row.role)
