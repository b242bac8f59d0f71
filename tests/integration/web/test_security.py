"""No route changes state, nor reads anything but health and docs, without a token; the
access log tells who did what and never repeats a secret."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from tests.integration.web.conftest import sending
from tests.integration.web.fake_worker import FakeWorker

pytestmark = pytest.mark.integration
PUBLIC = {"/health/live", "/health/ready", "/openapi.json", "/docs"}


async def api_routes(api: httpx.AsyncClient) -> list[tuple[str, str]]:
    """Every (method, path) of the API (the console has its own login), the one route the
    document leaves out (an unknown command's) too."""
    paths = (await api.get("/openapi.json")).json()["paths"]
    documented = [(method.upper(), path) for path, item in paths.items() for method in item]
    return [*documented, ("POST", "/commands/{command}")]


async def test_every_route_but_health_and_docs_needs_a_token(
    api: httpx.AsyncClient, fake_worker: FakeWorker
) -> None:
    routes = await api_routes(api)
    assert ("POST", "/commands/Deposit") in routes
    assert any(method != "GET" for method, _ in routes)
    for method, path in routes:
        concrete = re.sub(r"{[^}]+}", "x", path)
        answer = await api.request(method, concrete, json={}, headers={"Idempotency-Key": "k"})
        expected = 200 if path in PUBLIC - {"/health/ready"} else 401
        if path == "/health/ready":
            expected = answer.status_code  # 503 here: no Temporal; public either way
        assert answer.status_code == expected, (method, path, answer.text)
    assert await fake_worker.waiting("Deposit") == 0


async def test_each_request_is_logged_once_with_its_key_and_token_name_never_the_token(
    api: httpx.AsyncClient,
    write_token: str,
    fake_worker: FakeWorker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="worker.http")
    body = {"account_id": "alice", "amount": "5.00", "currency": "EUR"}
    await api.post("/commands/Deposit", json=body, headers=sending(write_token, "logged 1"))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("http ")]
    assert len(lines) == 1
    assert re.fullmatch(
        r"http method=POST path=/commands/Deposit status=202 duration_ms=[0-9.]+ "
        r"message_id=logged\\x201 token_name=write-[0-9a-f]+",
        lines[0],
    ), lines[0]
    assert write_token not in caplog.text
