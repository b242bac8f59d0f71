"""Editing a dead letter: the result must be a valid command with its identity unchanged."""

from __future__ import annotations

import json
import sys

import pytest

from tests.wiring import COMMANDS as REGISTRY
from worker.cli.common import CliError
from worker.contexts.accounts.commands import Deposit
from worker.contexts.transfers.commands import TransferMoney
from worker.ops.dlq.edit_cli import finish_edit
from worker.ops.dlq.editing import (
    body_as_text,
    edited_command,
    open_editor,
    parse_sets,
    require_command,
)
from worker.ops.dlq.letters import Properties, read
from worker.ops.dlq.resend_report import ResendReport

COMMANDS = REGISTRY.all

MALFORMED = json.dumps({"account_id": "alice", "amount": "1.001", "currency": "EUR"}).encode()


def test_a_set_amount_stays_a_string_as_the_contract_wants() -> None:
    assert parse_sets("Deposit", ["amount=5.00"]) == {"amount": "5.00"}
    assert parse_sets("Deposit", ['amount="5.00"']) == {"amount": "5.00"}


def test_a_set_value_is_json_when_it_parses_for_fields_that_are_not_strings() -> None:
    assert parse_sets("Deposit", ["memo=[1, 2]", "note=plain text"]) == {
        "memo": [1, 2],
        "note": "plain text",
    }


def test_a_set_without_an_equals_sign_is_refused() -> None:
    with pytest.raises(CliError, match="expected --set key=value"):
        parse_sets("Deposit", ["amount"])


def test_a_malformed_amount_is_fixed_with_set() -> None:
    command = edited_command("Deposit", MALFORMED, {"amount": "1.00"})
    assert command == Deposit(account_id="alice", amount="1.00", currency="EUR")


def test_an_edit_that_still_breaks_the_contract_is_refused_with_the_reason() -> None:
    with pytest.raises(CliError, match=r"schema_validation_failed: Deposit: amount.*nothing was"):
        edited_command("Deposit", MALFORMED, {"amount": "-1.00"})


@pytest.mark.parametrize(
    ("name", "field"),
    [("Deposit", "account_id"), ("TransferMoney", "transfer_id"), ("CloseAccount", "account_id")],
)
def test_an_identity_field_cannot_change(name: str, field: str) -> None:
    body = {"account_id": "alice", "transfer_id": "t-1"}
    with pytest.raises(CliError, match=f"{field} is an identity field and cannot change"):
        edited_command(name, json.dumps(body).encode(), {field: "someone-else"})


def test_the_identity_fields_name_what_each_command_acts_on() -> None:
    assert Deposit.identity_fields == ("account_id",)
    assert TransferMoney.identity_fields == ("transfer_id", "from_account_id", "to_account_id")
    assert all(set(model.identity_fields) <= set(model.model_fields) for model in COMMANDS.values())


def test_a_body_that_is_not_json_is_fixed_in_the_editor_not_with_set() -> None:
    broken = b'{"account_id": "alice", "amount": '
    with pytest.raises(CliError, match=r"edit it in \$EDITOR"):
        edited_command("Deposit", broken, {"amount": "1.00"})
    text = '{"account_id": "alice", "amount": "1.00", "currency": "EUR"}'
    assert edited_command("Deposit", broken, text) == Deposit(
        account_id="alice", amount="1.00", currency="EUR"
    )


def test_editor_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(CliError, match="malformed_json"):
        edited_command("Deposit", MALFORMED, "{oops")


def test_an_unknown_command_cannot_be_edited() -> None:
    with pytest.raises(CliError, match="unknown command 'Teleport'; purge it instead"):
        require_command("Teleport")


def test_the_editor_gets_pretty_json_and_its_saved_text_is_the_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = "import sys; p = sys.argv[1]; t = open(p).read(); open(p, 'w').write(t.upper())"
    monkeypatch.setenv("VISUAL", f'{sys.executable} -c "{script}"')
    text = body_as_text(MALFORMED)
    assert text.startswith('{\n  "account_id": "alice"')
    assert open_editor(text) == text.upper()


def test_an_editor_that_fails_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISUAL", "false")
    with pytest.raises(CliError, match="exited with 1; nothing was sent"):
        open_editor("{}")


def test_an_edit_answered_as_a_duplicate_ends_as_changing_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    letter = read("accounts.commands.dlq", MALFORMED, {"dlq-id": "a1"}, Properties("m-1"))
    answer = {"status": "accepted", "message_id": "m-1", "error": None, "duplicate": True}
    report = ResendReport(selected=1, results=[(letter, answer)])
    with pytest.raises(CliError, match=r"^duplicate: message id m-1 had already been processed"):
        finish_edit(report, letter, as_json=False)
    assert "1 accepted (1 duplicate)" in capsys.readouterr().out
