"""Bad input is dead-lettered at once with a precise reason; the worker keeps going."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pika
import pytest

from tests.e2e.harness import WorkerProcess, run_cli

pytestmark = pytest.mark.e2e


def cases(account: str) -> list[tuple[str, str, bytes, dict[str, Any]]]:
    """(case, expected error code, body, publish options) for every kind of bad input."""

    def deposit(**fields: Any) -> bytes:
        return json.dumps({"account_id": account, "currency": "EUR", **fields}).encode()

    return [
        ("truncated-json", "malformed_json", b'{"account_id": "x", "amount":', {}),
        ("not-utf8", "not_utf8", b"\xff\xfe{}", {}),
        ("amount-as-number", "schema_validation_failed", deposit(amount=10.5), {}),
        ("missing-amount", "schema_validation_failed", deposit(), {}),
        ("extra-field", "schema_validation_failed", deposit(amount="1.00", memo="hi"), {}),
        ("huge-number", "schema_validation_failed", deposit(amount="1" + "0" * 30), {}),
        ("negative", "schema_validation_failed", deposit(amount="-5.00"), {}),
        ("zero", "schema_validation_failed", deposit(amount="0.00"), {}),
        ("three-decimals", "schema_validation_failed", deposit(amount="1.001"), {}),
        (
            "unknown-currency",
            "schema_validation_failed",
            deposit(amount="1.00", currency="XXX"),
            {},
        ),
        ("not-an-object", "schema_validation_failed", b"[1, 2]", {}),
        ("oversize", "body_too_large", deposit(amount="1.00", pad="x" * 300_000), {}),
        (
            "text-plain",
            "unsupported_content_type",
            deposit(amount="1.00"),
            {"content_type": "text/plain"},
        ),
        (
            "saga-key",
            "reserved_message_id",
            deposit(amount="1.00"),
            {"message_id": "transfer-t9/withdraw/1"},
        ),
        ("no-message-id", "missing_message_id", deposit(amount="1.00"), {"message_id": None}),
        ("unknown-command", "unknown_command", deposit(amount="1.00"), {"direct": "Teleport"}),
    ]


def publish(channel: Any, case: str, body: bytes, options: dict[str, Any]) -> None:
    properties = pika.BasicProperties(
        content_type=options.get("content_type", "application/json"),
        message_id=options.get("message_id", uuid.uuid4().hex),
        headers={"test-case": case},
        type=options.get("direct"),
        delivery_mode=2,
    )
    if "direct" in options:
        channel.basic_publish("", "accounts.commands", body, properties, mandatory=True)
    else:
        channel.basic_publish("commands", "Deposit", body, properties, mandatory=True)


def dead_letters(channel: Any, wanted: set[str], timeout: float = 30) -> dict[str, Any]:
    found: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    while not wanted <= found.keys() and time.monotonic() < deadline:
        method, properties, body = channel.basic_get("accounts.commands.dlq", auto_ack=True)
        if method is None:
            time.sleep(0.1)
            continue
        case = (properties.headers or {}).get("test-case")
        if case in wanted:
            found[case] = (properties, body)
    return found


def test_every_kind_of_bad_input_is_dead_lettered_with_its_reason_and_valid_neighbours_pass(
    worker: WorkerProcess, amqp_url: str, worker_env: dict[str, str]
) -> None:
    account = f"neighbour-{uuid.uuid4().hex[:8]}"
    opened = run_cli(
        worker_env,
        "send",
        "OpenAccount",
        f"account_id={account}",
        "owner=N",
        "currency=EUR",
        "--wait",
    )
    assert opened.returncode == 0, opened.stderr
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()
    good = json.dumps({"account_id": account, "amount": "1.00", "currency": "EUR"}).encode()
    table = cases(account)
    for case, _, body, options in table:
        publish(channel, case, body, options)
        publish(channel, f"good-{case}", good, {})

    found = dead_letters(channel, {case for case, *_ in table})
    connection.close()

    for case, code, body, _ in table:
        assert case in found, f"{case} not dead-lettered"
        properties, dead_body = found[case]
        headers = properties.headers
        assert headers["error-code"] == code, (case, headers)
        assert headers["error-message"], case
        assert headers["original-queue"] == "accounts.commands"
        assert dead_body == body, "the body is kept untouched for a later retry"
    shown = json.loads(run_cli(worker_env, "accounts", "show", account, "--json").stdout)
    assert shown["balance"] == f"{len(table)}.00"
    assert "Traceback" not in worker.log()


def test_a_schema_error_names_the_field_that_is_wrong(worker: WorkerProcess, amqp_url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()
    body = json.dumps({"account_id": "zed", "amount": "1.001", "currency": "EUR"}).encode()
    publish(channel, "named-field", body, {})
    found = dead_letters(channel, {"named-field"})
    connection.close()
    message = found["named-field"][0].headers["error-message"]
    assert "EUR allows 2 decimal places" in message
