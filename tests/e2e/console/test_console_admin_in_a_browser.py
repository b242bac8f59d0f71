"""An admin works the management pages in a real headless browser: adds an administrator,
creates an API token that is shown once, revokes it."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.console.pages import log_in, page_for, snap
from tests.e2e.console.support import new_id

pytestmark = pytest.mark.e2e
People = dict[str, tuple[str, str]]


async def test_an_admin_adds_an_administrator_and_sees_a_new_token_once(
    browser: Browser, base_url: str, people: People
) -> None:
    page = await page_for(browser, base_url)
    await log_in(page, "ada", people["ada"][1])
    await page.goto("/console/admins")
    newcomer = new_id("nell")
    add = page.locator("form[action='/console/admins/add']")
    await add.locator("input[name=name]").fill(newcomer)
    await add.locator("select[name=role]").select_option("operator")
    await add.locator("input[name=password]").fill("a long enough password")
    await add.locator("input[name=reason]").fill("joins the on-call rota")
    await add.locator("button").click()
    await expect(page.locator("tr", has_text=newcomer)).to_contain_text("operator")
    await snap(page, "admins")

    await page.goto("/console/tokens")
    name = new_id("billing")
    create = page.locator("form[action='/console/tokens/create']")
    await create.locator("input[name=name]").fill(name)
    await create.locator("select[name=scope]").select_option("write")
    await create.locator("input[name=reason]").fill("the billing service sends refunds")
    await create.locator("button").click()
    token = (await page.locator("pre.token").inner_text()).strip()
    assert token.startswith("bwt_")
    await snap(page, "token-created")
    await page.goto("/console/tokens")
    assert token not in await page.content(), "a token is shown once"
    revoke = page.locator("tr", has_text=name).locator("form")
    await revoke.locator("input[name=reason]").fill("rotated")
    await revoke.locator("button").click()
    await expect(page.locator("tr", has_text=name)).to_contain_text("revoked")
    await snap(page, "tokens")
