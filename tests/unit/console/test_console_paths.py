"""Where a console URL leads: an id holding a ``/`` is one path segment and its own page;
a console path that no route takes, or takes with another method, is the console's page
with its headers, while the API's unknown paths stay problem JSON."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import Scope

from tests.unit.console.rendering import CONSOLE, SETTINGS, visit
from tests.wiring import CONTEXTS
from worker.ops.dlq.letters import Properties, read
from worker.ops.dlq.views import letter_json
from worker.web.app import create_app
from worker.web.console import console_error
from worker.web.console.paths import PathsAsSent
from worker.web.console.routing import console_router

SLASHED = "aaaa/edit"


@pytest.fixture(scope="module")
async def console() -> AsyncIterator[httpx.AsyncClient]:
    """The whole front door's app in this process; no page here needs a server."""
    app = create_app(SETTINGS, CONTEXTS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


def test_an_id_holding_a_slash_is_linked_as_one_path_segment() -> None:
    letter = read("accounts.commands.dlq", b"{}", {"dlq-id": SLASHED}, Properties("m-2"))
    page = CONSOLE.templates.env.get_template("letter.html").render(
        visit=visit("operator"),
        queue="accounts.commands",
        letter=letter_json(letter),
        own_id=True,
        history=[],
        errors={},
    )
    links = set(re.findall(r'(?:href|action)="(/console/letters/[^"]+)"', page))
    base = "/console/letters/accounts.commands/aaaa%2Fedit"
    assert links == {f"{base}/retry", f"{base}/edit", f"{base}/purge"}


async def test_an_id_holding_a_slash_leads_to_its_own_route_not_another() -> None:
    routes = console_router(CONSOLE)

    @routes.get("/letters/{queue}/{letter_id}")
    async def letter(request: Request, queue: str, letter_id: str) -> dict[str, str]:
        return {"page": "letter", "id": letter_id}

    @routes.get("/letters/{queue}/{letter_id}/edit")
    async def edit(request: Request, queue: str, letter_id: str) -> dict[str, str]:
        return {"page": "edit", "id": letter_id}

    app = FastAPI()
    app.add_middleware(PathsAsSent)
    app.include_router(routes)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        slashed = await c.get("/console/letters/q/aaaa%2Fedit")
        plain = await c.get("/console/letters/q/aaaa/edit")
        encoded = await c.get("/console/letters/q/50%25%20off")
    assert slashed.json() == {"page": "letter", "id": SLASHED}
    assert plain.json() == {"page": "edit", "id": "aaaa"}
    assert encoded.json() == {"page": "letter", "id": "50% off"}, "decoded once, not twice"


async def test_an_unknown_console_path_is_the_consoles_404_page(
    console: httpx.AsyncClient,
) -> None:
    for path in ("/console/nowhere", "/console/letters/q", "/console/static/missing.css"):
        answer = await console.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["x-frame-options"] == "DENY"
        assert "That did not work" in answer.text


async def test_a_method_a_console_page_does_not_take_is_its_405_page(
    console: httpx.AsyncClient,
) -> None:
    answer = await console.put("/console/audit")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET"
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")


async def test_the_apis_unknown_paths_stay_problem_json(console: httpx.AsyncClient) -> None:
    answer = await console.get("/no-such-route")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_console_path_with_a_trailing_slash_leads_to_the_page_without_it(
    console: httpx.AsyncClient,
) -> None:
    for asked, page in (("/console/", "/console"), ("/console/audit/?limit=200", None)):
        answer = await console.get(asked)
        assert answer.status_code == 307
        assert answer.headers["location"] == (page or "/console/audit?limit=200")


async def test_an_answer_before_routing_can_be_the_consoles_page_for_a_console_path() -> None:
    app = create_app(SETTINGS, CONTEXTS)

    def scope(path: str) -> Scope:
        return {"type": "http", "method": "POST", "path": path, "headers": [], "app": app}

    page = await console_error(scope("/console/admins/add"), 413, "the body is too large")
    assert page is not None and page.status_code == 413
    assert b"the body is too large" in page.body and page.headers["x-frame-options"] == "DENY"
    assert await console_error(scope("/commands/Deposit"), 413, "too large") is None
