"""What each role is shown: a viewer sees no action, an operator sees the letters' and sagas'
actions, only an admin sees the management pages; and a failure page names no password."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from aio_pika.exceptions import AMQPConnectionError

from tests.unit.console.rendering import CONSOLE, visit
from tests.wiring import CONTEXTS
from worker.ops.dlq.letters import Properties, read
from worker.ops.dlq.views import letter_json
from worker.web.console.routing import _failure

LETTER = read(
    "accounts.commands.dlq",
    b'{"account_id": "alice", "amount": "1.001", "currency": "EUR"}',
    {"dlq-id": "a1b2c3d4e5f6", "error-code": "schema_validation_failed", "command": "Deposit"},
    Properties(message_id="m-1"),
)


def letter_page(role: str) -> str:
    return CONSOLE.templates.env.get_template("letter.html").render(
        visit=visit(role),
        queue="accounts.commands",
        letter=letter_json(LETTER),
        own_id=True,
        no_own_id="",
        history=[],
        errors={},
    )


def saga_page(role: str) -> str:
    summary = SimpleNamespace(
        state="needs_operator", execution="running", started_at=datetime.now(UTC)
    )
    status = SimpleNamespace(waiting_step="withdraw", last_error="bogus", steps=[])
    view = SimpleNamespace(record=None, summary=summary, status=status, ours=True)
    return CONSOLE.templates.env.get_template("saga.html").render(
        visit=visit(role),
        saga=CONTEXTS.saga("transfer"),
        business_id="t-1",
        view=view,
        summary=summary,
        actions=("retry", "compensate", "resolve"),
        ui="http://localhost:8233/namespaces/default/workflows/transfer-t-1",
        history=[],
        errors={},
    )


@pytest.mark.parametrize("render", [letter_page, saga_page])
def test_a_viewer_is_shown_no_action_form(render: Any) -> None:
    page = render("viewer")
    assert 'class="action"' not in page
    assert "may look only" in page


def test_an_operator_is_shown_retry_edit_and_purge_each_asking_for_a_reason() -> None:
    page = letter_page("operator")
    for action in ("/retry", "/edit", "/purge"):
        assert f"a1b2c3d4e5f6{action}" in page
    assert page.count('name="reason"') == 2
    assert page.count('value="csrf-of-this-session"') == 3, "each form, logout included"


def test_an_operator_is_shown_the_three_saga_actions() -> None:
    page = saga_page("operator")
    for action in ("retry", "compensate", "resolve"):
        assert f"/console/sagas/transfer/t-1/{action}" in page


@pytest.mark.parametrize(("role", "shown"), [("operator", False), ("admin", True)])
def test_only_an_admin_is_shown_the_management_pages(role: str, shown: bool) -> None:
    page = letter_page(role)
    assert ('href="/console/admins"' in page) is shown
    assert ('href="/console/tokens"' in page) is shown


def test_a_broker_failure_names_the_broker_without_its_password() -> None:
    status, message = _failure(CONSOLE, AMQPConnectionError("connection refused"))
    assert status == 503
    assert "rabbit" in message
    assert "hunter2-secret" not in message
