"""The console's security over plain HTTP: sessions, CSRF tokens, roles read on every request,
the growing delay after failed logins, and no secret on any page or in any log."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets

import httpx
import pytest

from tests.e2e.console.server import HttpProcess
from tests.e2e.console.support import (
    QUEUE,
    amqp_password,
    audit_rows,
    csrf_of,
    logged_in,
    new_id,
    put_in_dlq,
    session_csrf,
)
from tests.e2e.harness import BusClient, WorkerProcess, money
from tests.services import pg_fetch

pytestmark = pytest.mark.e2e
People = dict[str, tuple[str, str]]


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


async def test_without_a_session_pages_lead_to_the_login_and_posts_are_refused(
    base_url: str, bus: BusClient, console_env: dict[str, str], stuck_transfer: str
) -> None:
    letter = f"/console/letters/{QUEUE}/{await a_letter(bus)}"
    pages = ["/console", letter, f"{letter}/edit", "/console/audit", "/console/admins"]
    posts = [
        f"{letter}/retry",
        f"{letter}/purge",
        f"/console/sagas/transfer/{stuck_transfer}/resolve",
        "/console/admins/add",
        "/console/tokens/create",
        "/console/logout",
    ]
    forged_cookie = {"console_session": "made-up.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb"}
    for cookies in ({}, forged_cookie):
        async with httpx.AsyncClient(base_url=base_url, cookies=cookies) as anonymous:
            for path in pages:
                answer = await anonymous.get(path)
                assert answer.status_code == 303, path
                assert answer.headers["location"].startswith("/console/login?next=")
            for path in posts:
                data = {"csrf": "x", "reason": "r", "name": "eve", "role": "admin"}
                answer = await anonymous.post(path, data=data)
                assert answer.status_code == 401, path
    async with httpx.AsyncClient(base_url=base_url) as anonymous:
        assert (await anonymous.get("/console/login")).status_code == 200


async def test_the_login_form_is_refused_without_its_own_csrf_token(
    base_url: str, people: People
) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        await client.get("/console/login")
        answer = await client.post(
            "/console/login", data={"name": "olive", "password": people["olive"][1]}
        )
        assert answer.status_code == 403
        assert "console_session" not in client.cookies


async def test_a_demoted_then_removed_administrator_loses_access_on_the_next_request(
    base_url: str, people: People, bus: BusClient
) -> None:
    letter = f"/console/letters/{QUEUE}/{await a_letter(bus)}"
    async with (
        logged_in(base_url, "otto", people["otto"][1]) as otto,
        logged_in(base_url, "ada", people["ada"][1]) as ada,
    ):
        assert "/purge" in (await otto.get(letter)).text
        csrf = await session_csrf(ada)
        demoted = await ada.post(
            "/console/admins/otto/role", data={"csrf": csrf, "role": "viewer", "reason": "audit"}
        )
        assert demoted.status_code == 303
        page = await otto.get(letter)
        assert "/purge" not in page.text
        refused = await otto.post(
            f"{letter}/purge", data={"csrf": csrf_of(page.text), "reason": "still?"}
        )
        assert refused.status_code == 403
        assert "otto is viewer" in refused.text
        removed = await ada.post(
            "/console/admins/otto/remove", data={"csrf": csrf, "reason": "left"}
        )
        assert removed.status_code == 303
        gone = await otto.get(letter)
        assert gone.status_code == 303
        assert gone.headers["location"].startswith("/console/login")
        self_removal = await ada.post(
            "/console/admins/ada/remove", data={"csrf": csrf, "reason": "x"}
        )
        assert self_removal.status_code == 409


async def test_each_failed_login_makes_the_next_attempt_of_that_name_wait_longer(
    base_url: str, people: People
) -> None:
    password = people["walt"][1]

    async def attempt(client: httpx.AsyncClient, name: str, secret: str) -> httpx.Response:
        form = await client.get("/console/login")
        data = {"csrf": csrf_of(form.text), "name": name, "password": secret}
        return await client.post("/console/login", data=data)

    async with httpx.AsyncClient(base_url=base_url) as client:
        unknown = await attempt(client, "nobody-at-all", "whatever-it-is")
        wrong = await attempt(client, "walt", "not the password")
        assert unknown.status_code == wrong.status_code == 401
        assert "wrong name or password" in unknown.text and "wrong name or password" in wrong.text
        too_soon = await attempt(client, "walt", password)
        assert too_soon.status_code == 429
        assert re.search(r"wait 1 s\b", too_soon.text)
        await asyncio.sleep(1.1)
        assert (await attempt(client, "walt", "wrong again")).status_code == 401
        again = await attempt(client, "walt", password)
        assert re.search(r"wait 2 s\b", again.text), "the second failure doubles the delay"
        await asyncio.sleep(2.1)
        assert (await attempt(client, "walt", password)).status_code == 303


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
