"""Working dead letters over plain HTTP: a retry takes every copy, an id holding a ``/`` has
its own page, an edit never changes an identity field, a group's ramp stops when a letter
fails again, and an action on what is not there says so."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.e2e.console.support import (
    QUEUE,
    audit_rows,
    balance,
    logged_in,
    new_id,
    put_in_dlq,
    session_csrf,
)
from tests.e2e.harness import BusClient, money, open_account

pytestmark = pytest.mark.e2e
People = dict[str, tuple[str, str]]


def letter_path(letter_id: str) -> str:
    return f"/console/letters/{QUEUE}/{quote(letter_id, safe='')}"


async def an_account(bus: BusClient, prefix: str) -> str:
    account = new_id(prefix)
    assert (await bus.call("OpenAccount", open_account(account)))["status"] == "accepted"
    return account


async def test_a_retry_sends_every_copy_of_the_letter_back(
    base_url: str, people: People, bus: BusClient, console_env: dict[str, str]
) -> None:
    account = await an_account(bus, "twice")
    code = new_id("twice_case")
    letter_id, message_id = await put_in_dlq(bus, money(account, "4.00"), code)
    await put_in_dlq(bus, money(account, "4.00"), code, letter_id, message_id)  # a copy
    async with logged_in(base_url, "olive", people["olive"][1]) as olive:
        form = {"csrf": await session_csrf(olive), "reason": "the database is back"}
        answer = await olive.post(f"{letter_path(letter_id)}/retry", data=form)
        assert answer.status_code == 200, answer.text
        assert "Sent back 2 of 2" in answer.text and "(1 duplicate)" in answer.text
        assert (await olive.get(letter_path(letter_id))).status_code == 404, "no copy is left"
    assert await balance(console_env["DATABASE_URL"], account) == "4.00", "applied once"
    actions = [row["action"] for row in await audit_rows(console_env["DATABASE_URL"], letter_id)]
    assert sorted(actions) == ["dlq.retry"] * 2 + ["dlq.retry.outcome"] * 2


async def test_a_letter_whose_id_holds_a_slash_has_its_own_page_and_actions(
    base_url: str, people: People, bus: BusClient, console_env: dict[str, str]
) -> None:
    plain = new_id("plain")
    slashed = f"{plain}/edit"
    for letter_id in (plain, slashed):
        await put_in_dlq(bus, money(new_id("slash"), "1.00"), new_id("slash_case"), letter_id)
    async with logged_in(base_url, "olive", people["olive"][1]) as olive:
        page = await olive.get(letter_path(slashed))
        assert page.status_code == 200, page.text
        assert f'<span class="mono">{slashed}</span></h1>' in page.text
        assert "<textarea" not in page.text, "not the edit page of the other letter"
        assert f'action="{letter_path(slashed)}/purge"' in page.text
        form = {"csrf": await session_csrf(olive), "reason": "a test letter"}
        purged = await olive.post(f"{letter_path(slashed)}/purge", data=form)
        assert purged.status_code == 200, purged.text
        assert (await olive.get(letter_path(plain))).status_code == 200, "the other one stays"
    url = console_env["DATABASE_URL"]
    assert [row["action"] for row in await audit_rows(url, slashed)] == ["dlq.purge"]
    assert await audit_rows(url, plain) == []


async def test_purging_a_letter_that_is_not_in_the_dlq_says_nothing_was_purged(
    base_url: str, people: People
) -> None:
    async with logged_in(base_url, "olive", people["olive"][1]) as olive:
        form = {"csrf": await session_csrf(olive), "reason": "junk"}
        answer = await olive.post(f"{letter_path(new_id('gone'))}/purge", data=form)
    assert answer.status_code == 404
    assert "nothing was purged" in answer.text and "<h1>Purged" not in answer.text


async def test_an_edit_that_changes_an_identity_field_is_refused_and_nothing_is_sent(
    base_url: str, people: People, bus: BusClient, console_env: dict[str, str]
) -> None:
    account = new_id("ident")
    letter_id, _ = await put_in_dlq(bus, money(account, "1.001"), new_id("ident_case"))
    body = json.dumps(money(new_id("someone-else"), "1.00"))
    async with logged_in(base_url, "olive", people["olive"][1]) as olive:
        form = {"csrf": await session_csrf(olive), "reason": "typo", "body": body}
        for step in ("edit", "edit/confirm"):
            answer = await olive.post(f"{letter_path(letter_id)}/{step}", data=form)
            assert answer.status_code == 422, (step, answer.text)
            assert "account_id is an identity field and cannot change" in answer.text
        assert (await olive.get(letter_path(letter_id))).status_code == 200, "still in its DLQ"
    assert await audit_rows(console_env["DATABASE_URL"], letter_id) == []


async def test_a_group_retry_stops_when_a_letter_fails_again_and_the_rest_stay(
    base_url: str, people: People, bus: BusClient, console_env: dict[str, str]
) -> None:
    account, code = await an_account(bus, "ramp-stop"), new_id("half_fixed").replace("-", "_")
    bad, _ = await put_in_dlq(bus, money(account, "1.001"), code)  # first: it goes alone
    good = [(await put_in_dlq(bus, money(account, "2.00"), code))[0] for _ in range(2)]
    group = f"/console/groups/{QUEUE}/transient/{code}"
    async with logged_in(base_url, "olive", people["olive"][1]) as olive:
        form = {"csrf": await session_csrf(olive), "reason": "fixed?", "id": [bad, *good]}
        answer = await olive.post(f"{group}/retry", data=form)
        assert answer.status_code == 409, answer.text
        assert "Sent back 1 of 3" in answer.text
        assert "Stopped: 1 message(s) failed again (invalid" in answer.text
        preview = await olive.get(group)
    assert all(letter_id in preview.text for letter_id in good), "the rest stay in the DLQ"
    assert bad not in preview.text
    assert await balance(console_env["DATABASE_URL"], account) == "0.00"


async def test_settling_a_saga_that_does_not_exist_is_a_404(base_url: str, people: People) -> None:
    async with logged_in(base_url, "olive", people["olive"][1]) as olive:
        form = {"csrf": await session_csrf(olive), "reason": "settled by hand"}
        answer = await olive.post(f"/console/sagas/transfer/{new_id('nosuch')}/resolve", data=form)
    assert answer.status_code == 404, answer.text
    assert "no transfer saga" in answer.text
