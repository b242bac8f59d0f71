"""Each command gets exactly one outcome, visible to a plain AMQP client and the CLI."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.e2e.harness import BusClient, WorkerProcess, money, open_account, run_cli

pytestmark = pytest.mark.e2e


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_an_accepted_command_changes_the_account_and_replies_with_its_correlation_id(
    worker: WorkerProcess, amqp_url: str, worker_env: dict[str, str]
) -> None:
    alice = new_id("alice")
    async with BusClient(amqp_url) as bus:
        opened = await bus.call("OpenAccount", open_account(alice))
        deposited = await bus.call("Deposit", money(alice, "10.50"))

    assert opened["status"] == "accepted" and opened["error"] is None
    assert deposited["status"] == "accepted"
    shown = run_cli(worker_env, "accounts", "show", alice, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {
        "account_id": alice,
        "owner": f"Owner of {alice}",
        "currency": "EUR",
        "balance": "10.50",
        "status": "open",
        "version": 2,
    }


@pytest.mark.parametrize(
    ("setup", "command", "body", "code"),
    [
        ([], "Deposit", {"amount": "1.00", "currency": "EUR"}, "account_not_found"),
        ([], "OpenAccount", {"owner": "Twin", "currency": "EUR"}, "account_already_exists"),
        ([], "Withdraw", {"amount": "5.00", "currency": "EUR"}, "insufficient_funds"),
        ([], "Deposit", {"amount": "5.00", "currency": "USD"}, "currency_mismatch"),
        (["FreezeAccount"], "Withdraw", {"amount": "1.00", "currency": "EUR"}, "account_frozen"),
        (["CloseAccount"], "Deposit", {"amount": "1.00", "currency": "EUR"}, "account_closed"),
    ],
)
async def test_a_business_refusal_is_rejected_with_its_reason_and_changes_nothing(
    worker: WorkerProcess,
    amqp_url: str,
    worker_env: dict[str, str],
    setup: list[str],
    command: str,
    body: dict[str, str],
    code: str,
) -> None:
    account = new_id("bob")
    async with BusClient(amqp_url) as bus:
        if code != "account_not_found":
            assert (await bus.call("OpenAccount", open_account(account)))["status"] == "accepted"
        for step in setup:
            assert (await bus.call(step, {"account_id": account}))["status"] == "accepted"
        before = run_cli(worker_env, "accounts", "show", account, "--json").stdout
        outcome = await bus.call(command, {"account_id": account, **body})

    assert outcome["status"] == "rejected"
    assert outcome["error"]["code"] == code
    assert run_cli(worker_env, "accounts", "show", account, "--json").stdout == before


async def test_the_same_message_id_published_twice_is_applied_once_and_answered_twice(
    worker: WorkerProcess, amqp_url: str, worker_env: dict[str, str]
) -> None:
    carol = new_id("carol")
    async with BusClient(amqp_url) as bus:
        await bus.call("OpenAccount", open_account(carol))
        first = await bus.call("Deposit", money(carol, "7.00"), message_id=f"dep-{carol}")
        second = await bus.call("Deposit", money(carol, "7.00"), message_id=f"dep-{carol}")
        refused = await bus.call("Withdraw", money(carol, "99.00"), message_id=f"wd-{carol}")
        refused_again = await bus.call("Withdraw", money(carol, "99.00"), message_id=f"wd-{carol}")

    answer = {"status": "accepted", "message_id": f"dep-{carol}", "error": None}
    assert first == {**answer, "duplicate": False}
    assert second == {**answer, "duplicate": True}, "the recorded answer, marked as a replay"
    assert refused["status"] == refused_again["status"] == "rejected"
    assert refused["error"] == refused_again["error"]
    shown = json.loads(run_cli(worker_env, "accounts", "show", carol, "--json").stdout)
    assert (shown["balance"], shown["version"]) == ("7.00", 2)


async def test_a_message_id_header_stands_in_for_the_property(
    worker: WorkerProcess, amqp_url: str
) -> None:
    dave = new_id("dave")
    async with BusClient(amqp_url) as bus:
        outcome = await bus.call(
            "OpenAccount", open_account(dave), message_id="", headers={"message-id": f"h-{dave}"}
        )
    assert outcome == {
        "status": "accepted",
        "message_id": f"h-{dave}",
        "error": None,
        "duplicate": False,
    }


def test_the_cli_sends_waits_and_exits_by_outcome(
    worker: WorkerProcess, worker_env: dict[str, str]
) -> None:
    erin = new_id("erin")
    opened = run_cli(
        worker_env,
        "send",
        "OpenAccount",
        f"account_id={erin}",
        "owner=Erin",
        "currency=JPY",
        "--wait",
    )
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.startswith("accepted")
    deposit = json.dumps(money(erin, "500", "JPY"))
    assert run_cli(worker_env, "send", "Deposit", "--json", deposit, "--wait").returncode == 0
    refused = run_cli(
        worker_env,
        "send",
        "Withdraw",
        f"account_id={erin}",
        "amount=501",
        "currency=JPY",
        "--wait",
        "--output-json",
    )
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"]["code"] == "insufficient_funds"
    listed = json.loads(run_cli(worker_env, "accounts", "list", "--json").stdout)
    assert {"account_id": erin, "balance": "500", "currency": "JPY"}.items() <= next(
        a for a in listed if a["account_id"] == erin
    ).items()


def test_an_invalid_command_never_leaves_the_cli(worker_env: dict[str, str]) -> None:
    result = run_cli(worker_env, "send", "Deposit", "account_id=x", "amount=1.001", "currency=EUR")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "decimal places" in result.stderr and "Traceback" not in result.stderr
    unknown = run_cli(worker_env, "send", "Teleport", "account_id=x")
    assert unknown.returncode == 2 and "unknown_command" in unknown.stderr
