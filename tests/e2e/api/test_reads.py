"""Reads from a real worker's database: read-your-writes, a saga, the offline docs, health;
and, last, no token or password in any answer or in the server's log."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest

from tests.e2e.api.conftest import FrontDoor, Tokens
from tests.e2e.api.test_commands import new_id, send
from tests.e2e.harness import money, open_account

pytestmark = pytest.mark.e2e


def reading(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_statement_read_after_a_deposit_shows_it(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    account = new_id("ryw")
    assert (await send(http, tokens.write, "OpenAccount", open_account(account))).status_code == 200
    sent = await send(http, tokens.write, "Deposit", money(account, "7.25"), wait=None)
    assert sent.status_code == 202
    key = sent.json()["message_id"]
    statement = await http.get(
        f"/accounts/{account}/statement", params={"after": key}, headers=reading(tokens.read)
    )
    assert statement.status_code == 200, statement.text
    assert [entry["amount"] for entry in statement.json()["entries"]][-1:] == ["7.25"]
    shown = await http.get(
        f"/accounts/{account}", params={"after": key}, headers=reading(tokens.read)
    )
    assert shown.json()["balance"] == "7.25"


async def test_a_transfer_saga_is_read_back_by_its_kind_and_id(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    payer, payee, transfer = new_id("payer"), new_id("payee"), new_id("t")
    for account in (payer, payee):
        assert (
            await send(http, tokens.write, "OpenAccount", open_account(account))
        ).status_code == 200
    assert (await send(http, tokens.write, "Deposit", money(payer, "10.00"))).status_code == 200
    body = {**money(payer, "4.50"), "transfer_id": transfer, "to_account_id": payee}
    body["from_account_id"] = body.pop("account_id")
    assert (await send(http, tokens.write, "TransferMoney", body)).status_code == 200
    deadline = time.monotonic() + 30
    while True:
        saga = await http.get(f"/sagas/transfer/{transfer}", headers=reading(tokens.read))
        if saga.status_code == 200 and saga.json()["state"] == "completed":
            break
        assert time.monotonic() < deadline, saga.text
        await asyncio.sleep(0.3)
    assert saga.json()["ui"].endswith(f"/workflows/transfer-{transfer}")
    unknown = await http.get(f"/sagas/nope/{transfer}", headers=reading(tokens.read))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_saga_kind")


async def test_the_docs_and_their_assets_load_from_the_server_itself(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) >= 3
    assert not [a for a in assets if "cdn." in a or a.startswith(("http:", "https:", "//"))]
    for asset in assets:
        assert (await http.get(asset)).status_code == 200, asset
    document = await http.get("/openapi.json")
    assert document.json()["paths"]["/commands/Deposit"]["post"]["operationId"] == "send_Deposit"


async def test_ready_when_the_broker_the_database_and_temporal_answer(
    http: httpx.AsyncClient,
) -> None:
    ready = await http.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"].values()) == {"ok"}


async def test_no_token_or_password_is_in_any_answer_or_the_servers_log(
    front_door: FrontDoor, tokens: Tokens
) -> None:
    """Last in the package (its modules run in name order): every answer so far is kept."""
    log = front_door.process.log()
    assert "http method=POST path=/commands/Deposit status=200" in log
    for secret in (*tokens.all(), "guest:guest"):
        assert secret not in log
        assert not [answer for answer in front_door.answers if secret in answer]
