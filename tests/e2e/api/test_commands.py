"""Commands through ``POST /commands/{name}`` to a real worker: every status code, one effect
per key, and ``Prefer: wait`` for each outcome."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.api.conftest import FrontDoor, Tokens
from tests.e2e.harness import money, open_account, run_cli

pytestmark = pytest.mark.e2e


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def sending(token: str, key: str | None = None, wait: int | None = 10) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key or new_id("key")}
    return headers if wait is None else {**headers, "Prefer": f"wait={wait}"}


async def send(
    http: httpx.AsyncClient, token: str, name: str, body: Any, **options: Any
) -> httpx.Response:
    return await http.post(f"/commands/{name}", json=body, headers=sending(token, **options))


async def balance(http: httpx.AsyncClient, token: str, account_id: str) -> str:
    shown = await http.get(f"/accounts/{account_id}", headers={"Authorization": f"Bearer {token}"})
    assert shown.status_code == 200, shown.text
    return str(shown.json()["balance"])


async def test_a_deposit_posted_again_and_again_with_one_key_changes_the_balance_once(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    account = new_id("once")
    assert (await send(http, tokens.write, "OpenAccount", open_account(account))).status_code == 200
    key = new_id("deposit")
    concurrent = await asyncio.gather(
        *(send(http, tokens.write, "Deposit", money(account, "5.00"), key=key) for _ in range(3))
    )
    later = await send(http, tokens.write, "Deposit", money(account, "5.00"), key=key)
    assert {answer.status_code for answer in (*concurrent, later)} == {200}
    assert later.json() == {
        "status": "accepted",
        "message_id": key,
        "error": None,
        "duplicate": True,
    }
    assert await balance(http, tokens.read, account) == "5.00"


async def test_prefer_wait_answers_accepted_rejected_and_invalid(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    account = new_id("outcomes")
    opened = await send(http, tokens.write, "OpenAccount", open_account(account))
    assert (opened.status_code, opened.headers["preference-applied"]) == (200, "wait=10")
    refused = await send(http, tokens.write, "Withdraw", money(account, "99.00"))
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "insufficient_funds"
    # HTTP's validation passes; the worker finds the tab invalid (one account pays and is paid).
    key = new_id("one-account-tab")
    tab = {"tab_id": new_id("tab"), "currency": "EUR"}
    tab |= {"account_id": account, "house_account_id": account}
    invalid = await send(http, tokens.write, "OpenTab", tab, key=key)
    assert invalid.status_code == 422, invalid.text
    assert invalid.json()["code"] == "invalid_value"
    shown = await http.get(f"/commands/{key}", headers={"Authorization": f"Bearer {tokens.read}"})
    assert (shown.status_code, shown.json()["status"]) == (200, "invalid")
    again = await send(http, tokens.write, "OpenTab", tab, key=key)
    assert (again.status_code, again.json()["outcome"]["duplicate"]) == (422, True)
    pending = await send(http, tokens.write, "Deposit", money(account, "1.00"), wait=None)
    assert (pending.status_code, pending.json()["status"]) == (202, "pending")
    assert pending.headers["location"] == f"/commands/{pending.json()['message_id']}"


async def test_each_client_mistake_has_its_own_status_code(
    http: httpx.AsyncClient, tokens: Tokens, front_door: FrontDoor
) -> None:
    deposit = money(new_id("nobody"), "1.00")

    async def status(response: httpx.Response, code: str) -> int:
        assert response.json()["code"] == code, response.text
        return response.status_code

    codes = [
        await status(await http.post("/commands/Deposit", json=deposit), "missing_token"),
        await status(await send(http, "bwt_forged", "Deposit", deposit), "invalid_token"),
        await status(await send(http, tokens.read, "Deposit", deposit), "insufficient_scope"),
        await status(await send(http, tokens.write, "Nope", deposit), "unknown_command"),
        await status(
            await send(http, tokens.write, "Deposit", {"amount": 1}), "schema_validation_failed"
        ),
        await status(
            await send(http, tokens.write, "Deposit", deposit, key="order-o/x/1"),
            "reserved_message_id",
        ),
        await status(
            await http.post("/commands/Deposit", content=b"{", headers=sending(tokens.write)),
            "malformed_json",
        ),
        await status(
            await http.post(
                "/commands/Deposit", content=b"0" * 300_000, headers=sending(tokens.write)
            ),
            "body_too_large",
        ),
    ]
    assert codes == [401, 401, 403, 404, 422, 400, 422, 413]


async def test_a_revoked_write_token_is_refused_on_its_next_request(
    http: httpx.AsyncClient, tokens: Tokens, front_door: FrontDoor
) -> None:
    account = new_id("revoked")
    assert (
        await send(http, tokens.doomed, "OpenAccount", open_account(account))
    ).status_code == 200
    revoked = await asyncio.to_thread(
        run_cli, front_door.env, "tokens", "revoke", tokens.doomed_name
    )
    assert revoked.returncode == 0, revoked.stderr
    after = await send(http, tokens.doomed, "Deposit", money(account, "1.00"))
    assert (after.status_code, after.json()["code"]) == (401, "invalid_token")


async def test_a_command_only_a_policy_may_issue_is_refused_by_the_front_door(
    http: httpx.AsyncClient, tokens: Tokens
) -> None:
    key = new_id("forged-award")
    award = {"customer_id": new_id("c"), "order_id": new_id("o"), "points": 10}
    refused = await send(http, tokens.write, "AwardLoyaltyPoints", award, key=key)
    assert (refused.status_code, refused.json()["code"]) == (422, "reserved_command")
    assert refused.headers["location"] == f"/commands/{key}"
    shown = await http.get(f"/commands/{key}", headers={"Authorization": f"Bearer {tokens.read}"})
    assert shown.status_code == 404  # never stored, never published


async def test_a_key_already_used_as_a_message_id_over_amqp_is_a_conflict(
    http: httpx.AsyncClient, tokens: Tokens, front_door: FrontDoor
) -> None:
    account, key = new_id("amqp"), new_id("amqp-1")
    sent = await asyncio.to_thread(
        run_cli,
        front_door.env,
        *("send", "OpenAccount", f"account_id={account}", "owner=Ann", "currency=EUR"),
        *("--message-id", key, "--wait"),
    )
    assert sent.returncode == 0, sent.stderr
    deposit = await send(http, tokens.write, "Deposit", money(account, "5.00"), key=key)
    assert deposit.status_code == 422, deposit.text
    assert deposit.json()["code"] == "idempotency_key_conflict"
    assert await balance(http, tokens.read, account) == "0.00"
