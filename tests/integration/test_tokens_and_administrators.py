"""API tokens and console administrators on SQLite and PostgreSQL, and their CLI."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from tests.integration.private_database import private_url
from worker.persistence.web import AdministratorRow, ApiTokenRow, ConsoleSessionRow
from worker.web import admins, tokens

pytestmark = pytest.mark.integration
__all__ = ["private_url"]  # the fixture


async def test_a_token_is_shown_once_and_kept_only_as_its_hash(private_url: str) -> None:
    token = await tokens.create_token("billing", "write")

    row = await ApiTokenRow.get(name="billing")
    assert token.startswith(tokens.PREFIX)
    assert token not in (row.token_hash, row.name)
    assert await tokens.verify_token(token) == tokens.ApiToken("billing", "write")
    assert "token_hash" not in json.dumps(await tokens.list_tokens())


async def test_a_revoked_or_unknown_token_verifies_as_nobody(private_url: str) -> None:
    token = await tokens.create_token("revoked-soon", "read")

    assert await tokens.revoke_token("revoked-soon")
    assert await tokens.revoke_token("revoked-soon"), "revoking twice is not an error"
    assert await tokens.verify_token(token) is None
    assert await tokens.verify_token(token[:-1] + "x") is None
    assert await tokens.verify_token("") is None
    assert not await tokens.revoke_token("never-made")


async def test_a_write_token_may_read_and_a_read_token_may_not_write() -> None:
    assert tokens.ApiToken("w", "write").allows("read")
    assert tokens.ApiToken("r", "read").allows("read")
    assert not tokens.ApiToken("r", "read").allows("write")


async def test_a_token_name_is_never_reused(private_url: str) -> None:
    await tokens.create_token("twice", "read")
    await tokens.revoke_token("twice")

    with pytest.raises(tokens.TokenExists):
        await tokens.create_token("twice", "write")


async def test_a_password_is_stored_as_an_argon2_hash(private_url: str) -> None:
    await admins.add_administrator("ada", "operator", "correct horse")

    row = await AdministratorRow.get(name="ada")
    assert row.password_hash.startswith("$argon2")
    assert "correct horse" not in row.password_hash
    assert await admins.log_in("ada", "correct horse") == admins.Administrator("ada", "operator")


async def test_each_failed_login_makes_the_next_try_wait_longer(private_url: str) -> None:
    await admins.add_administrator("bob", "viewer", "right password")

    with pytest.raises(admins.LoginRefused) as first:
        await admins.log_in("bob", "wrong")
    assert first.value.retry_after is None
    with pytest.raises(admins.LoginRefused) as too_soon:
        await admins.log_in("bob", "right password")
    assert too_soon.value.retry_after is not None, "even the right password waits its turn"
    await AdministratorRow.filter(name="bob").update(failed_logins=3)
    with pytest.raises(admins.LoginRefused) as later:
        await admins.log_in("bob", "right password")
    assert later.value.retry_after is not None and later.value.retry_after > 3


async def test_a_wrong_name_and_a_wrong_password_get_the_same_answer(private_url: str) -> None:
    await admins.add_administrator("carol", "admin", "carol's password")

    with pytest.raises(admins.LoginRefused) as unknown:
        await admins.log_in("nobody", "carol's password")
    with pytest.raises(admins.LoginRefused) as wrong:
        await admins.log_in("carol", "not it at all")
    assert str(unknown.value) == str(wrong.value) == "wrong name or password"


async def test_roles_grant_looking_acting_and_managing_in_turn() -> None:
    viewer, operator, admin = (admins.Administrator("x", role) for role in admins.ROLES)
    assert [viewer.can(p) for p in ("look", "act", "manage")] == [True, False, False]
    assert [operator.can(p) for p in ("look", "act", "manage")] == [True, True, False]
    assert [admin.can(p) for p in ("look", "act", "manage")] == [True, True, True]
    assert not admins.Administrator("x", "retired").can("look")


async def test_guesses_made_at_once_are_checked_one_at_a_time(private_url: str) -> None:
    await admins.add_administrator("fay", "viewer", "fay's password")

    answers = await asyncio.gather(
        *(admins.log_in("fay", f"guess {n}") for n in range(20)), return_exceptions=True
    )

    assert all(isinstance(a, admins.LoginRefused) for a in answers)
    checked = [a for a in answers if isinstance(a, admins.LoginRefused) and a.retry_after is None]
    assert len(checked) <= 2, "the others were refused before their password was checked"
    assert (await AdministratorRow.get(name="fay")).failed_logins == len(checked)


async def test_removing_an_administrator_ends_their_sessions(private_url: str) -> None:
    await admins.add_administrator("gus", "operator", "gus's password")
    await ConsoleSessionRow.create(
        id="s" * 64, administrator="gus", csrf_token="c" * 64, expires_at=datetime.now(UTC)
    )

    assert await admins.remove_administrator("gus")
    await admins.add_administrator("gus", "admin", "another password")

    assert not await ConsoleSessionRow.filter(administrator="gus").exists()
