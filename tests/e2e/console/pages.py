"""Driving the console in the browser: a fresh context per person, logging in, screenshots."""

from __future__ import annotations

from playwright.async_api import Browser, Page

from tests.e2e.harness import ROOT

SCREENSHOTS = ROOT / ".data" / "screenshots"
WIDTH = 1280


async def page_for(browser: Browser, base_url: str) -> Page:
    """A page of a browser context of its own (its own cookies), at a laptop's width."""
    context = await browser.new_context(base_url=base_url, viewport={"width": WIDTH, "height": 900})
    return await context.new_page()


async def log_in(page: Page, name: str, password: str) -> None:
    await page.goto("/console/login")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console")


async def snap(page: Page, name: str) -> None:
    """A full-page screenshot for review; the page fits the width (no sideways scrolling)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"console-{name}.png", full_page=True)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"the {name} page is {width} px wide: it scrolls sideways at {WIDTH}"
