"""Operators work the console in a real headless browser (Debian's chromium), against a real
worker, broker, database and Temporal; each page is saved under .data/screenshots."""

from __future__ import annotations

import asyncio
import time

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.console.pages import log_in, page_for, snap
from tests.e2e.console.support import QUEUE, audit_rows, balance, new_id, put_in_dlq
from tests.e2e.harness import BusClient, money, open_account
from tests.e2e.test_sagas import wait_for_states

pytestmark = pytest.mark.e2e
People = dict[str, tuple[str, str]]


async def test_an_operator_edits_a_dead_letter_retries_it_and_sees_the_account_and_the_audit(
    browser: Browser, base_url: str, people: People, bus: BusClient, console_env: dict[str, str]
) -> None:
    account, message_id = new_id("typo"), new_id("deposit")
    assert (await bus.call("OpenAccount", open_account(account)))["status"] == "accepted"
    refused = await bus.call("Deposit", money(account, "1.001"), message_id=message_id)
    assert refused["status"] == "invalid"
    page = await page_for(browser, base_url)
    await page.goto("/console/login")
    await snap(page, "login")

    await log_in(page, "olive", people["olive"][1])
    found = page.locator("li", has_text=message_id)
    await expect(found).to_contain_text("Deposit")
    await snap(page, "home")
    await found.locator("a").first.click()
    await expect(page.locator("pre.body")).to_contain_text("1.001")
    letter_id = (await page.locator("h1 .mono").inner_text()).strip()
    await snap(page, "letter")

    await page.click("text=Edit and retry")
    body = await page.input_value("textarea[name=body]")
    await page.fill("textarea[name=body]", body.replace("1.001", "1.00"))
    await page.fill("input[name=reason]", "a typo in the amount")
    await snap(page, "edit")
    await page.click("text=Check and show the change")
    changed = page.locator("tr.changed")
    await expect(changed).to_have_count(1)
    await expect(changed).to_contain_text('"1.001"')
    await expect(changed.locator("td.after")).to_have_text('"1.00"')
    await snap(page, "edit-diff")
    await page.click("text=Send the edited letter")
    await expect(page.locator("p.summary")).to_contain_text("1 accepted")
    await snap(page, "resent")
    assert await balance(console_env["DATABASE_URL"], account) == "1.00"

    await page.click(f"text=Audit of {letter_id}")
    rows = page.locator("table.audit tbody tr")
    await expect(rows.filter(has_text="dlq.edit.outcome")).to_contain_text("olive")
    await snap(page, "audit")
    recorded = await audit_rows(console_env["DATABASE_URL"], letter_id)
    assert [(r["action"], r["operator"], r["reason"]) for r in recorded] == [
        ("dlq.edit", "olive", "a typo in the amount"),
        ("dlq.edit.outcome", "olive", "a typo in the amount"),
    ]


async def test_a_group_goes_back_after_a_preview_and_only_the_letters_it_named_go(
    browser: Browser, base_url: str, people: People, bus: BusClient, console_env: dict[str, str]
) -> None:
    account, code = new_id("ramp"), new_id("db_down").replace("-", "_")
    assert (await bus.call("OpenAccount", open_account(account)))["status"] == "accepted"
    previewed = [(await put_in_dlq(bus, money(account, "2.00"), code))[0] for _ in range(3)]
    page = await page_for(browser, base_url)
    await log_in(page, "olive", people["olive"][1])
    await page.goto(f"/console/groups/{QUEUE}/transient/{code}")
    going = page.locator("table").first
    for letter_id in previewed:
        await expect(going).to_contain_text(letter_id)
    await snap(page, "group-preview")
    late, _ = await put_in_dlq(bus, money(account, "7.00"), code)  # joins after the preview

    await page.fill("input[name=reason]", "the database is back")
    await page.click("text=Retry these 3")
    await expect(page.locator("p.summary")).to_contain_text("Sent back 3 of 3: 3 accepted")
    assert await balance(console_env["DATABASE_URL"], account) == "6.00"
    await page.goto(f"/console/groups/{QUEUE}/transient/{code}")
    await expect(page.locator("table").first).to_contain_text(late)
    assert not any([await page.locator(f"text={x}").count() for x in previewed])


async def test_a_viewer_sees_no_action_and_a_forged_post_is_refused(
    browser: Browser,
    base_url: str,
    people: People,
    bus: BusClient,
    console_env: dict[str, str],
    stuck_transfer: str,
) -> None:
    account, code = new_id("look"), new_id("viewer_case").replace("-", "_")
    letter_id, _ = await put_in_dlq(bus, money(account, "3.00"), code)
    page = await page_for(browser, base_url)
    await log_in(page, "vera", people["vera"][1])
    letter = f"/console/letters/{QUEUE}/{letter_id}"
    await page.goto(letter)
    await expect(page.locator("pre.body")).to_contain_text(account)
    await expect(page.locator("form.action")).to_have_count(0)
    await expect(page.locator("text=Edit and retry")).to_have_count(0)
    await snap(page, "viewer-letter")
    for path in (
        f"/console/sagas/transfer/{stuck_transfer}",
        f"/console/groups/{QUEUE}/transient/{code}",
    ):
        await page.goto(path)
        await expect(page.locator("text=may look only")).to_have_count(1)
        await expect(page.locator("form.action")).to_have_count(0)

    csrf = await page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    forged: dict[str, str | float | bool] = {"csrf": csrf, "reason": "forged", "id": letter_id}
    for path in (
        f"{letter}/retry",
        f"{letter}/purge",
        f"{letter}/edit",
        f"/console/groups/{QUEUE}/transient/{code}/retry",
        f"/console/sagas/transfer/{stuck_transfer}/resolve",
        "/console/tokens/create",
    ):
        answer = await page.request.post(path, form=forged)
        assert answer.status == 403, (path, answer.status)
    assert (await page.request.get(f"{letter}/edit")).status == 403
    assert (await page.request.get("/console/admins")).status == 403
    assert (await page.request.get(letter)).status == 200, "still in its DLQ"
    assert await audit_rows(console_env["DATABASE_URL"], letter_id) == []


async def test_an_operator_resolves_a_saga_that_waits_for_an_operator(
    browser: Browser,
    base_url: str,
    people: People,
    console_env: dict[str, str],
    stuck_transfer: str,
) -> None:
    page = await page_for(browser, base_url)
    await log_in(page, "olive", people["olive"][1])
    link = page.locator("a", has_text=stuck_transfer)
    deadline = time.monotonic() + 60
    while not await link.count():
        assert time.monotonic() < deadline, "the transfer never came to need an operator"
        await asyncio.sleep(1)
        await page.reload()
    await link.click()
    facts = page.locator("dl.facts").first
    await expect(facts).to_contain_text("needs_operator")
    await expect(facts).to_contain_text("withdraw")
    await expect(facts).to_contain_text("bogus")
    ui = await page.locator("a", has_text="/workflows/").get_attribute("href")
    assert ui and ui.endswith(f"/workflows/transfer-{stuck_transfer}")
    await snap(page, "saga")

    resolve = page.locator("form[action$='/resolve']")
    await resolve.locator("input[name=reason]").fill("refunded by hand")
    await resolve.locator("button").click()
    await expect(page.locator(".notice-good")).to_contain_text("resolve accepted")
    url = console_env["DATABASE_URL"]
    await wait_for_states(url, [stuck_transfer], {"resolved"})
    recorded = await audit_rows(url, stuck_transfer)
    assert [(r["action"], r["operator"], r["reason"]) for r in recorded] == [
        ("saga.resolve", "olive", "refunded by hand")
    ]
    await page.goto(f"/console/sagas/transfer/{stuck_transfer}")
    await expect(page.locator("text=Nothing to settle")).to_have_count(1)
    await snap(page, "saga-resolved")
