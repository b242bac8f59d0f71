"""Console sessions: the login form's own CSRF token, roles read afresh on every request, the
growing delay after failed logins, and one session per browser."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from tests.e2e.console.support import QUEUE, csrf_of, logged_in, new_id, put_in_dlq, session_csrf
from tests.e2e.harness import BusClient, money

pytestmark = pytest.mark.e2e
People = dict[str, tuple[str, str]]


async def a_letter(bus: BusClient) -> str:
    letter_id, _ = await put_in_dlq(bus, money(new_id("sess"), "1.00"), new_id("sess_case"))
    return letter_id


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


async def test_logging_in_again_in_the_same_browser_closes_its_earlier_session(
    base_url: str, people: People
) -> None:
    async with httpx.AsyncClient(base_url=base_url) as browser:
        form = await browser.get("/console/login")  # a second tab has the form open too
        tab, nonce = dict(browser.cookies), csrf_of(form.text)
        login = {"csrf": nonce, "name": "olive", "password": people["olive"][1]}
        assert (await browser.post("/console/login", data=login)).status_code == 303
        earlier = browser.cookies["console_session"]
        browser.cookies.update(tab)  # the second tab logs in with its form
        assert (await browser.post("/console/login", data=login)).status_code == 303
        assert browser.cookies["console_session"] != earlier
        assert (await browser.get("/console/audit")).status_code == 200
    async with httpx.AsyncClient(base_url=base_url) as stale:
        stale.cookies.set("console_session", earlier)
        answer = await stale.get("/console/audit")
        assert answer.status_code == 303, "the earlier session is closed"
