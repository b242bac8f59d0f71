"""The console's security over plain HTTP: every POST route needs a session and that session's
own CSRF token, and no secret appears on any page or in any log."""

from __future__ import annotations

import hashlib
import json
import re
import secrets

import httpx
import pytest

from tests.e2e.console.server import HttpProcess
from tests.e2e.console.support import (
    QUEUE,
    amqp_password,
    audit_rows,
    concrete,
    console_posts,
    logged_in,
    new_id,
    put_in_dlq,
    session_csrf,
)
from tests.e2e.harness import BusClient, WorkerProcess, money
from tests.services import pg_fetch

pytestmark = pytest.mark.e2e
People = dict[str, tuple[str, str]]
#: What fills a console route's placeholders (the tests add the ids they made).
PLACES = {"queue": QUEUE, "failure_class": "transient", "error_code": "none"} | {
    "kind": "transfer",
    "action": "resolve",
}


async def a_letter(bus: BusClient) -> str:
    letter_id, _ = await put_in_dlq(bus, money(new_id("sec"), "1.00"), new_id("sec_case"))
    return letter_id


async def test_a_post_without_its_sessions_own_csrf_token_is_refused_and_does_nothing(
    base_url: str, people: People, bus: BusClient, console_env: dict[str, str]
) -> None:
    letter_id = await a_letter(bus)
    purge = f"/console/letters/{QUEUE}/{letter_id}/purge"
    olive = people["olive"][1]
    async with (
        logged_in(base_url, "olive", olive) as first,
        logged_in(base_url, "olive", olive) as second,
    ):
        others = await session_csrf(second)
        for forged in ({}, {"csrf": ""}, {"csrf": "x" * 43}, {"csrf": others}):
            answer = await first.post(purge, data={**forged, "reason": "forged"})
            assert answer.status_code == 403, forged
            assert "CSRF" in answer.text
        assert (await first.get(f"/console/letters/{QUEUE}/{letter_id}")).status_code == 200
        assert await audit_rows(console_env["DATABASE_URL"], letter_id) == []
        empty = await first.post(purge, data={"csrf": await session_csrf(first), "reason": " "})
        assert empty.status_code == 422
        assert "say why" in empty.text
        done = await first.post(purge, data={"csrf": await session_csrf(first), "reason": "junk"})
        assert done.status_code == 200, done.text
    assert [r["action"] for r in await audit_rows(console_env["DATABASE_URL"], letter_id)] == [
        "dlq.purge"
    ]


def every_post(values: dict[str, str]) -> list[str]:
    """Every path the console takes a POST on, with ``values`` in its placeholders."""
    posts = [concrete(path, values) for path in console_posts()]
    assert len(posts) >= 12 and "/console/logout" in posts
    return posts


def would_do_something(letter_id: str, name: str) -> dict[str, str]:
    """A form that every action would take: a reason, a body, a name, a role, a scope."""
    body = json.dumps({"account_id": "eve", "amount": "9.00", "currency": "EUR"})
    return {"reason": "forged", "id": letter_id, "body": body, "name": name, "role": "admin"} | {
        "password": "a long enough password",
        "scope": "write",
    }


async def nothing_was_done(url: str, letter_id: str, name: str) -> None:
    assert await audit_rows(url, letter_id) == []
    for table in ("administrator", "api_token"):
        assert await pg_fetch(url, f"SELECT name FROM {table} WHERE name=$1", name) == []


async def test_without_a_session_pages_lead_to_the_login_and_every_post_is_refused(
    base_url: str, bus: BusClient, console_env: dict[str, str], stuck_transfer: str
) -> None:
    letter_id, eve = await a_letter(bus), new_id("eve")
    letter = f"/console/letters/{QUEUE}/{letter_id}"
    pages = ["/console", letter, f"{letter}/edit", "/console/audit", "/console/admins"]
    values = {**PLACES, "letter_id": letter_id, "business_id": stuck_transfer, "name": eve}
    posts = [path for path in every_post(values) if path != "/console/login"]
    forged_cookie = {"console_session": "made-up.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb"}
    for cookies in ({}, forged_cookie):
        async with httpx.AsyncClient(base_url=base_url, cookies=cookies) as anonymous:
            for path in pages:
                answer = await anonymous.get(path)
                assert answer.status_code == 303, path
                assert answer.headers["location"].startswith("/console/login?next=")
            for path in posts:
                data = {"csrf": "x", **would_do_something(letter_id, eve)}
                answer = await anonymous.post(path, data=data)
                assert answer.status_code == 401, path
    async with httpx.AsyncClient(base_url=base_url) as anonymous:
        assert (await anonymous.get("/console/login")).status_code == 200
    await nothing_was_done(console_env["DATABASE_URL"], letter_id, eve)


async def test_every_post_without_the_sessions_own_csrf_token_is_refused_and_does_nothing(
    base_url: str, people: People, bus: BusClient, console_env: dict[str, str], stuck_transfer: str
) -> None:
    letter_id, eve = await a_letter(bus), new_id("eve")
    values = {**PLACES, "letter_id": letter_id, "business_id": stuck_transfer, "name": eve}
    ada = people["ada"][1]
    async with logged_in(base_url, "ada", ada) as admin, logged_in(base_url, "ada", ada) as other:
        others = await session_csrf(other)
        for path in every_post(values):
            for forged in ({}, {"csrf": others}):
                answer = await admin.post(
                    path, data={**would_do_something(letter_id, eve), **forged}
                )
                assert answer.status_code == 403, (path, forged)
                assert "CSRF" in answer.text, path
        assert (await admin.get("/console/audit")).status_code == 200, "still logged in"
    await nothing_was_done(console_env["DATABASE_URL"], letter_id, eve)


async def test_no_secret_appears_in_any_page_or_log(
    base_url: str,
    people: People,
    bus: BusClient,
    console_env: dict[str, str],
    stuck_transfer: str,
    front_door: HttpProcess,
    console_worker: WorkerProcess,
) -> None:
    letter = f"/console/letters/{QUEUE}/{await a_letter(bus)}"
    async with (
        logged_in(base_url, "ada", people["ada"][1]) as ada,
        logged_in(base_url, "olive", people["olive"][1]) as other,
    ):
        name = new_id("leak-check")
        created = await ada.post(
            "/console/tokens/create",
            data={"csrf": await session_csrf(ada), "name": name, "scope": "read", "reason": "t"},
        )
        token = re.search(r"bwt_[A-Za-z0-9_\-]+", created.text)
        assert created.status_code == 201 and token
        hashes = await pg_fetch(
            console_env["DATABASE_URL"], "SELECT password_hash FROM administrator"
        )
        own_session = str(ada.cookies["console_session"]).split(".")[0]
        secrets_ = {
            "the token": token.group(0),
            "the token's hash": hashlib.sha256(token.group(0).encode()).hexdigest(),
            "the AMQP password": amqp_password(console_env),
            "the session token": own_session,
            "another session's CSRF token": await session_csrf(other),
            **{f"password hash {i}": row["password_hash"] for i, row in enumerate(hashes)},
        }
        pages = [
            "/console",
            letter,
            f"{letter}/edit",
            f"/console/groups/{QUEUE}/transient/none",
            f"/console/sagas/transfer/{stuck_transfer}",
            "/console/audit",
            "/console/audit?action=tokens",
            "/console/admins",
            "/console/tokens",
            "/console/handlers/account_statement",
            f"/console/letters/{QUEUE}/{secrets.token_hex(6)}",
        ]
        shown = {path: (await ada.get(path)).text for path in pages}
    async with httpx.AsyncClient(base_url=base_url) as anonymous:
        shown["login"] = (await anonymous.get("/console/login")).text
    shown["the HTTP log"], shown["the worker's log"] = front_door.log(), console_worker.log()
    leaks = [
        (what, where) for where, text in shown.items() for what, s in secrets_.items() if s in text
    ]
    assert leaks == []
