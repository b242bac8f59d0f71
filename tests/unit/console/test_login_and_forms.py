"""The console's small rules: signed login nonces, constant-time token checks, where a login
may lead, what a refused login says, and the reason every action needs."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from worker.web.admins import LoginRefused
from worker.web.console.forms import MAX_REASON, FormError, choice_of, reason_of
from worker.web.console.login import _next_page, refusal_text
from worker.web.console.sessions import Sessions, same_token


async def a_key() -> bytes:
    return b"k" * 32


async def test_a_login_nonce_is_good_only_with_the_cookie_that_signed_it() -> None:
    sessions = Sessions(8, a_key)
    cookie, nonce = await sessions.login_nonce()
    other_cookie, other_nonce = await sessions.login_nonce()
    assert await sessions.is_login_nonce(cookie, nonce)
    assert not await sessions.is_login_nonce(cookie, other_nonce)
    assert not await sessions.is_login_nonce(cookie[:-2] + "xx", nonce), "tampered"
    assert not await sessions.is_login_nonce(None, nonce)
    forged = await Sessions(8, _other_key).login_nonce()
    assert not await sessions.is_login_nonce(forged[0], forged[1]), "signed with another key"
    assert other_cookie != cookie


async def _other_key() -> bytes:
    return b"o" * 32


def test_a_token_matches_only_itself_and_a_missing_one_never_does() -> None:
    assert same_token("abc", "abc")
    assert not same_token("abd", "abc")
    assert not same_token(None, "abc")
    assert not same_token("", "")
    assert not same_token(["abc"], "abc")


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/console/audit", "/console/audit"),
        ("https://evil.example/console", "/console"),
        ("//evil.example/console", "/console"),
        ("/docs", "/console"),
        ("/console/login", "/console"),
        ("", "/console"),
    ],
)
def test_a_login_leads_only_to_a_console_page_of_this_server(asked: str, goes_to: str) -> None:
    assert _next_page(asked) == goes_to


def test_a_refused_login_says_wrong_name_or_password_or_how_long_to_wait() -> None:
    assert refusal_text(LoginRefused()) == "wrong name or password"
    assert refusal_text(LoginRefused(retry_after=3.2)).endswith("wait 4 s")


def test_every_action_needs_a_reason_of_reasonable_length() -> None:
    assert reason_of(FormData({"reason": "  db back  "})) == "db back"
    for missing in (FormData(), FormData({"reason": "   "})):
        with pytest.raises(FormError) as refused:
            reason_of(missing)
        assert refused.value.field == "reason"
    with pytest.raises(FormError, match=f"at most {MAX_REASON}"):
        reason_of(FormData({"reason": "x" * (MAX_REASON + 1)}))


def test_a_choice_outside_the_list_is_refused_naming_the_field() -> None:
    assert choice_of(FormData({"role": "viewer"}), "role", ("viewer", "admin")) == "viewer"
    with pytest.raises(FormError) as refused:
        choice_of(FormData({"role": "root"}), "role", ("viewer", "admin"))
    assert refused.value.errors == {"role": "choose one of viewer, admin"}
