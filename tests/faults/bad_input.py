"""Bad input as planned messages: the cases of tests/e2e/test_invalid_input.py, and more."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.e2e.test_invalid_input import cases
from tests.faults.traffic import Planned

QUEUE = "accounts.commands"


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
    """One planned message per kind of bad input, each expecting its DLQ error code."""
    return [planned(*case) for case in cases(account) + more_cases(account)]
