"""Bad input as planned messages: the cases of tests/e2e/test_invalid_input.py, and more.

:func:`all_cases` is the plain kinds, as :class:`Planned` messages any publisher can
send (the soak mixes some in); :func:`all_kinds` adds the hostile ones of
tests/faults/hostile.py, as :class:`Kind` (raw AMQP) for scenario 7.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.e2e.test_invalid_input import cases
from tests.faults.hostile import QUEUE, Kind, kinds
from tests.faults.traffic import Planned

__all__ = ["DESCRIPTIONS", "QUEUE", "all_cases", "all_kinds", "more_cases", "planned"]

#: What each plain case sends, in words (docs/bad-input.md).
DESCRIPTIONS = {
    "truncated-json": 'a Deposit body cut short: `{"account_id": "x", "amount":`',
    "not-utf8": "body `\\xff\\xfe{}` (not UTF-8)",
    "amount-as-number": "`amount` as the JSON number 10.5",
    "missing-amount": "a Deposit without `amount`",
    "extra-field": "an unknown field `memo`",
    "huge-number": '`amount` "1" and 30 zeros',
    "negative": '`amount` "-5.00"',
    "zero": '`amount` "0.00"',
    "three-decimals": 'EUR `amount` "1.001"',
    "unknown-currency": '`currency` "XXX"',
    "not-an-object": "body `[1, 2]`",
    "oversize": "a 300 KB body (over `MAX_BODY_BYTES`, 256 KiB)",
    "text-plain": "`content_type` text/plain",
    "saga-key": "`message_id` transfer-t9/withdraw/1 (a saga step's key)",
    "no-message-id": "no `message_id` property, no `message-id` header",
    "unknown-command": "sent to accounts.commands directly with `type` Teleport",
    "empty-body": "an empty body",
    "json-null": "body `null`",
    "deeply-nested": "body of 100,000 `[`",
    "account-as-number": "`account_id` as the number 7",
    "float-overflow": "`amount` 1e400 (a JSON number past any double)",
    "long-message-id": "no `message_id` property; a `message-id` header of 300 characters",
    "gzip": "`content_encoding` gzip",
}


def more_cases(account: str) -> list[tuple[str, str, bytes, dict[str, Any]]]:
    """Bad input that test_invalid_input.py does not send, in its (case, code, body, options)."""

    def body(**fields: Any) -> bytes:
        return json.dumps({"account_id": account, "currency": "EUR", **fields}).encode()

    return [
        ("empty-body", "malformed_json", b"", {}),
        ("json-null", "schema_validation_failed", b"null", {}),
        ("deeply-nested", "malformed_json", b"[" * 100_000, {}),
        ("account-as-number", "schema_validation_failed", body(amount="1.00", account_id=7), {}),
        (
            "float-overflow",
            "schema_validation_failed",
            b'{"account_id": "x", "amount": 1e400, "currency": "EUR"}',
            {},
        ),
        (
            "long-message-id",
            "invalid_message_id",
            body(amount="1.00"),
            {"message_id": None, "headers": {"message-id": "m" * 300}},
        ),
        ("gzip", "unsupported_content_encoding", body(amount="1.00"), {"encoding": "gzip"}),
    ]


def planned(case: str, code: str, body: bytes, options: dict[str, Any]) -> Planned:
    return Planned(
        ref=f"{case}-{uuid.uuid4().hex[:6]}",
        command="Deposit",
        body=body,
        message_id=options.get("message_id", uuid.uuid4().hex),
        expect=f"dead:{code}",
        content_type=options.get("content_type", "application/json"),
        content_encoding=options.get("encoding"),
        # Sent to the queue itself, the command name is in the ``type`` property.
        type=options.get("direct"),
        queue=QUEUE if "direct" in options else None,
        headers=options.get("headers", {}),
    )


def all_cases(account: str) -> list[Planned]:
    """One planned message per plain kind of bad input, each expecting its DLQ error code."""
    return [planned(*case) for case in cases(account) + more_cases(account)]


def kind_of(case: str, code: str, body: bytes, options: dict[str, Any]) -> Kind:
    """A plain case as a :class:`Kind`, sent like every other (raw properties)."""
    properties: dict[str, Any] = {
        "content_type": options.get("content_type", "application/json"),
        "content_encoding": options.get("encoding"),
        "type": options.get("direct"),
        "headers": options.get("headers"),
    }
    if "message_id" in options:
        properties["message_id"] = options["message_id"]
    return Kind(
        case, DESCRIPTIONS[case], f"dead:{code}", body, properties, direct="direct" in options
    )


def all_kinds(account: str) -> list[Kind]:
    """Every kind scenario 7 sends: the plain cases, then the hostile ones."""
    return [kind_of(*case) for case in cases(account) + more_cases(account)] + kinds(account)
