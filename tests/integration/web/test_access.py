"""Who may do what, and how every mistake a client makes is answered: a problem, never a 500."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.integration.web.conftest import bearer, new_token, revoke_token, sending
from tests.integration.web.fake_worker import FakeWorker
from tests.wiring import CONTEXTS
from worker.web.api.openapi import sendable

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"
DEPOSIT = {"account_id": "alice", "amount": "5.00", "currency": "EUR"}


def problem_of(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert {"type", "title", "detail"} <= body.keys()
    return body


async def test_a_request_without_a_token_is_refused_with_a_bearer_challenge(
    api: httpx.AsyncClient,
) -> None:
    for response in (
        await api.get("/accounts/alice"),
        await api.get("/commands/some-key"),
        await api.post("/commands/Deposit", json=DEPOSIT, headers={"Idempotency-Key": "k"}),
        await api.get("/accounts/alice", headers={"Authorization": "Basic Z3Vlc3Q6Z3Vlc3Q="}),
    ):
        problem_of(response, 401, "missing_token")
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_an_unknown_token_is_refused_and_never_repeated(api: httpx.AsyncClient) -> None:
    forged = "bwt_this-is-no-token-of-ours"
    response = await api.get("/products", headers=bearer(forged))
    problem_of(response, 401, "invalid_token")
    assert forged not in response.text
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_revoked_token_is_refused_on_the_very_next_request(
    api: httpx.AsyncClient,
) -> None:
    name, token = await new_token("write")
    assert (await api.get("/products", headers=bearer(token))).status_code == 200
    assert await revoke_token(name)
    problem_of(await api.get("/products", headers=bearer(token)), 401, "invalid_token")
    sent = await api.post("/commands/Deposit", json=DEPOSIT, headers=sending(token, "after-revoke"))
    problem_of(sent, 401, "invalid_token")


async def test_a_read_token_reads_but_cannot_send_commands(
    api: httpx.AsyncClient, read_token: str, fake_worker: FakeWorker
) -> None:
    assert (await api.get("/products", headers=bearer(read_token))).status_code == 200
    sent = await api.post("/commands/Deposit", json=DEPOSIT, headers=sending(read_token, "r-1"))
    body = problem_of(sent, 403, "insufficient_scope")
    assert "write" in str(body["detail"])
    assert await fake_worker.waiting("Deposit") == 0


async def test_an_unknown_command_is_404_and_names_no_internal_command(
    api: httpx.AsyncClient, write_token: str
) -> None:
    sent = await api.post("/commands/Nope", json={}, headers=sending(write_token, "n-1"))
    body = problem_of(sent, 404, "unknown_command")
    internal = set(CONTEXTS.commands.all) - set(CONTEXTS.commands.public)
    assert internal
    assert not any(name in json.dumps(body) for name in internal)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"account_id": "alice",', "malformed_json"),
        (b"", "malformed_json"),
        (b"\xff\xfe not utf-8", "not_utf8"),
        (b'{"amount": "1.00", "amount": "9999.00"}', "malformed_json"),
        (b'{"account_id": "alice", "amount": NaN, "currency": "EUR"}', "malformed_json"),
        (b"[1, 2]", "schema_validation_failed"),
    ],
)
async def test_a_body_that_is_no_command_object_is_a_422_problem(
    api: httpx.AsyncClient, write_token: str, body: bytes, code: str
) -> None:
    sent = await api.post("/commands/Deposit", content=body, headers=sending(write_token, "b-1"))
    problem = problem_of(sent, 422, code)
    assert [error["field"] for error in problem["errors"]] == ["body"]  # type: ignore[attr-defined]


async def test_each_field_at_fault_is_named(api: httpx.AsyncClient, write_token: str) -> None:
    body = {"account_id": "no spaces allowed", "amount": "1.001", "currency": "EUR", "x": 1}
    sent = await api.post("/commands/Deposit", json=body, headers=sending(write_token, "f-1"))
    problem = problem_of(sent, 422, "schema_validation_failed")
    fields = {error["field"]: error["code"] for error in problem["errors"]}  # type: ignore[attr-defined]
    assert fields == {
        "account_id": "string_pattern_mismatch",
        "amount": "value_error",
        "x": "extra_forbidden",
    }


@pytest.mark.parametrize(
    ("key", "code"),
    [
        (None, "missing_idempotency_key"),
        ("", "invalid_message_id"),
        ("k" * 256, "invalid_message_id"),
        ("transfer-t-1/withdraw/1", "reserved_message_id"),
        ("policy-award_loyalty_points/e-1/0", "reserved_message_id"),
    ],
)
async def test_an_idempotency_key_the_worker_would_refuse_is_a_400_naming_the_header(
    api: httpx.AsyncClient, write_token: str, key: str | None, code: str
) -> None:
    headers = bearer(write_token) if key is None else sending(write_token, key)
    problem = problem_of(
        await api.post("/commands/Deposit", json=DEPOSIT, headers=headers), 400, code
    )
    assert problem["errors"][0]["field"] == "Idempotency-Key"  # type: ignore[index]


async def test_a_body_over_the_limit_is_413_with_or_without_a_length(
    api: httpx.AsyncClient, write_token: str
) -> None:
    headers = sending(write_token, "big-1")
    too_big = b" " * (256 * 1024 + 1)
    declared = await api.post("/commands/Deposit", content=too_big, headers=headers)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b" " * 8192

    chunked = await api.post("/commands/Deposit", content=chunks(), headers=headers)
    for answer in (declared, chunked):
        problem = problem_of(answer, 413, "body_too_large")
        assert (
            problem["detail"] == f"the body is larger than the limit of {256 * 1024} bytes "
            "(MAX_BODY_BYTES)"
        )
        assert answer.headers["location"] == "/commands/big-1"


async def test_a_console_form_over_the_limit_gets_the_consoles_own_413_page(
    api: httpx.AsyncClient,
) -> None:
    sent = await api.post("/console/login", content=b"x" * (256 * 1024 + 1))
    assert sent.status_code == 413
    assert sent.headers["content-type"].startswith("text/html")
    assert f"limit of {256 * 1024} bytes" in sent.text


async def test_unknown_routes_and_methods_are_problems(
    api: httpx.AsyncClient, read_token: str
) -> None:
    problem_of(await api.get("/nowhere", headers=bearer(read_token)), 404, "not_found")
    problem_of(await api.delete("/products", headers=bearer(read_token)), 405, "method_not_allowed")
    problem_of(
        await api.get("/accounts/a%00b", headers=bearer(read_token)), 400, "invalid_path_parameter"
    )
    problem_of(await api.get("/accounts/nobody", headers=bearer(read_token)), 404, "not_found")
    problem_of(
        await api.get("/accounts/nobody?wait=-1", headers=bearer(read_token)),
        422,
        "request_validation_failed",
    )


async def test_a_read_after_a_command_without_an_outcome_in_time_is_503_with_retry_after(
    api: httpx.AsyncClient, read_token: str
) -> None:
    read = await api.get(
        "/accounts/alice/statement",
        params={"after": "never-sent", "wait": "0.2"},
        headers=bearer(read_token),
    )
    problem = problem_of(read, 503, "not_caught_up")
    assert read.headers["retry-after"]
    assert "no outcome yet" in str(problem["detail"])


async def test_every_answer_to_a_command_names_its_key_resource(
    api: httpx.AsyncClient, write_token: str, read_token: str
) -> None:
    key = "a key/with spaces"
    for token, body in ((read_token, b"{}"), (write_token, b"{"), (write_token, b'{"amount": 1}')):
        sent = await api.post("/commands/Deposit", headers=sending(token, key), content=body)
        assert sent.status_code in (403, 422)
        assert sent.headers["location"] == "/commands/a%20key%2Fwith%20spaces"


async def test_the_openapi_document_has_one_operation_per_command_a_client_may_send(
    api: httpx.AsyncClient,
) -> None:
    document = (await api.get("/openapi.json")).json()
    for name in sendable(CONTEXTS.commands):
        operation = document["paths"][f"/commands/{name}"]["post"]
        body = operation["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": f"#/components/schemas/{name}"}
        assert name in document["components"]["schemas"]
        assert operation["security"] == [{"bearer": []}]
        assert "example" in body, name
        CONTEXTS.commands.parse(name, body["example"])
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    unsendable = set(CONTEXTS.commands.all) - set(sendable(CONTEXTS.commands))
    assert "AwardLoyaltyPoints" in unsendable  # a policy's own: public on AMQP, never here
    assert not any(f"/commands/{name}" in document["paths"] for name in unsendable)
    assert "AwardLoyaltyPoints" not in document["components"]["schemas"]


async def test_a_command_only_a_policy_may_issue_is_refused_before_anything_is_stored(
    api: httpx.AsyncClient, write_token: str, read_token: str, fake_worker: FakeWorker
) -> None:
    award = {"customer_id": "c-1", "order_id": "o-1", "points": 10}
    sent = await api.post(
        "/commands/AwardLoyaltyPoints", json=award, headers=sending(write_token, "forged-1")
    )
    problem_of(sent, 422, "reserved_command")
    assert sent.headers["location"] == "/commands/forged-1"
    assert await fake_worker.waiting("AwardLoyaltyPoints") == 0
    shown = await api.get("/commands/forged-1", headers=bearer(read_token))
    assert shown.status_code == 404


async def test_an_idempotency_key_sent_twice_is_a_400_naming_the_header(
    api: httpx.AsyncClient, write_token: str, fake_worker: FakeWorker
) -> None:
    headers = [*bearer(write_token).items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    sent = await api.post("/commands/Deposit", json=DEPOSIT, headers=headers)
    problem = problem_of(sent, 400, "duplicate_idempotency_key")
    assert problem["errors"][0]["field"] == "Idempotency-Key"  # type: ignore[index]
    assert "location" not in sent.headers
    assert await fake_worker.waiting("Deposit") == 0


@pytest.mark.parametrize("prefer", ["wait=\u00b3", "wait=" + "9" * 5000, "wait=1.5", "wait=x"])
async def test_a_prefer_wait_that_is_no_number_of_seconds_is_ignored(
    api: httpx.AsyncClient, write_token: str, fake_worker: FakeWorker, prefer: str
) -> None:
    """``str.isdigit`` took "³" (and ``int`` then failed) and 5000 digits (``int`` refuses)."""
    key = f"prefer-{len(prefer)}-{ord(prefer[-1])}"
    headers = {**sending(write_token, key), "Prefer": prefer}
    # As sent on the wire: one byte per character (Starlette reads headers as Latin-1).
    raw = {name.encode(): value.encode("latin-1") for name, value in headers.items()}
    sent = await api.post("/commands/Deposit", json=DEPOSIT, headers=raw)
    assert sent.status_code == 202, sent.text
    assert "preference-applied" not in sent.headers
    await fake_worker.take("Deposit")


async def test_a_read_after_a_command_checks_its_path_before_waiting(
    api: httpx.AsyncClient, read_token: str
) -> None:
    started = time.monotonic()
    read = await api.get(
        "/accounts/a%00b", params={"after": "never-sent", "wait": "5"}, headers=bearer(read_token)
    )
    problem_of(read, 400, "invalid_path_parameter")
    assert time.monotonic() - started < 2
