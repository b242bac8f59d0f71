"""A bounded context that only the tests know plugs in by its declaration alone.

``tests/contexts/tabs`` is loaded with ``EXTRA_CONTEXTS``: no framework file names
it. It is driven as any context is, through real RabbitMQ, PostgreSQL and the
Temporal dev server, and through the CLI's generic parts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import BusClient, WorkerProcess, money, open_account, run_cli
from tests.services import create_database, drop_database, pg_fetch, pg_url, private_vhost

pytestmark = pytest.mark.e2e

TABS = "tests.contexts.tabs.declaration:CONTEXT"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def tabs_env(temporal_address: str) -> Iterator[dict[str, str]]:
    """A vhost and a database of their own, migrated with the tabs context's tables."""
    name = f"tabs_{uuid.uuid4().hex[:8]}"
    create_database(name)
    with private_vhost(f"tabs-{name}") as amqp_url:
        env = {
            "AMQP_URL": amqp_url,
            "DATABASE_URL": pg_url(name),
            "TEMPORAL_ADDRESS": temporal_address,
            "EXTRA_CONTEXTS": TABS,
            "SHUTDOWN_GRACE": "10",
        }
        migrated = run_cli(env, "db", "migrate")
        assert migrated.returncode == 0, migrated.stderr
        yield env
    drop_database(name)


@pytest.fixture(scope="module")
def tabs_worker(tabs_env: dict[str, str], logs: Path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(tabs_env, logs, name="tabs-worker").start()
    yield process
    process.stop()


async def open_funded(bus: BusClient, account: str, amount: str | None) -> None:
    assert (await bus.call("OpenAccount", open_account(account)))["status"] == "accepted"
    if amount is not None:
        assert (await bus.call("Deposit", money(account, amount)))["status"] == "accepted"


async def balances(url: str, *ids: str) -> list[str]:
    rows = await pg_fetch(url, "SELECT id, balance FROM accounts WHERE id = ANY($1)", list(ids))
    found = {r["id"]: f"{r['balance']:.2f}" for r in rows}
    return [found[i] for i in ids]


async def tab_status(url: str, tab_id: str) -> str:
    [row] = await pg_fetch(url, "SELECT status FROM tabs WHERE id = $1", tab_id)
    return str(row["status"])


def open_tab(tab_id: str, guest: str, house: str) -> dict[str, str]:
    return {"tab_id": tab_id, "account_id": guest, "house_account_id": house, "currency": "EUR"}


def add(tab_id: str, item: str, quantity: int, price: str) -> dict[str, object]:
    return {
        "tab_id": tab_id,
        "item": item,
        "quantity": quantity,
        "amount": price,
        "currency": "EUR",
    }


def test_the_command_list_shows_the_contexts_commands_on_its_own_queue(
    tabs_env: dict[str, str],
) -> None:
    listed = run_cli(tabs_env, "commands")

    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    for name in ("OpenTab", "AddToTab", "CloseTab"):
        assert "queue=tabs.commands" in lines[name]
    assert "RecordTabOutcome" not in lines  # only the saga dispatches it
    assert "queue=accounts.commands" in lines["Deposit"]


async def test_a_tab_is_filled_in_child_rows_and_settled_by_a_saga_of_account_commands(
    tabs_env: dict[str, str], tabs_worker: WorkerProcess
) -> None:
    url, tab, guest, house = tabs_env["DATABASE_URL"], new_id("tab"), new_id("g"), new_id("h")
    async with BusClient(tabs_env["AMQP_URL"]) as bus:
        await open_funded(bus, guest, "50.00")
        await open_funded(bus, house, None)
        sent = run_cli(
            tabs_env, "send", "OpenTab", "--json", json.dumps(open_tab(tab, guest, house))
        )
        assert sent.returncode == 0, sent.stderr
        for item, quantity, price in [
            ("beer", 2, "4.50"),
            ("wine", 1, "7.00"),
            ("beer", 1, "4.50"),
        ]:
            added = await bus.call("AddToTab", add(tab, item, quantity, price))
            assert added["status"] == "accepted", added

    lines = await pg_fetch(
        url, "SELECT item, quantity FROM tab_lines WHERE tab_id = $1 ORDER BY line_no", tab
    )
    assert [(r["item"], r["quantity"]) for r in lines] == [("beer", 3), ("wine", 1)]

    closed = run_cli(tabs_env, "send", "CloseTab", f"tab_id={tab}", "--wait-saga", timeout=120)

    assert closed.returncode == 0, closed.stdout + closed.stderr
    assert await tab_status(url, tab) == "completed"
    assert await balances(url, guest, house) == ["29.50", "20.50"]
    listed = run_cli(tabs_env, "sagas", "list", "--kind", "tab", "--json")
    assert listed.returncode == 0, listed.stderr
    [saga] = [s for s in json.loads(listed.stdout) if s["tab_id"] == tab]
    assert saga["state"] == "completed"
    shown = run_cli(tabs_env, "sagas", "show", tab)
    assert shown.returncode == 0, shown.stderr
    assert "completed" in shown.stdout.splitlines()[0]


async def test_a_refused_credit_is_compensated_by_refunding_the_guest(
    tabs_env: dict[str, str], tabs_worker: WorkerProcess
) -> None:
    url, tab, guest, house = tabs_env["DATABASE_URL"], new_id("tab"), new_id("g"), new_id("h")
    async with BusClient(tabs_env["AMQP_URL"]) as bus:
        await open_funded(bus, guest, "10.00")
        await open_funded(bus, house, None)
        assert (await bus.call("OpenTab", open_tab(tab, guest, house)))["status"] == "accepted"
        assert (await bus.call("AddToTab", add(tab, "tea", 2, "3.00")))["status"] == "accepted"
        # A closed account takes no deposit: the credit step is refused.
        assert (await bus.call("CloseAccount", {"account_id": house}))["status"] == "accepted"

    closed = run_cli(tabs_env, "send", "CloseTab", f"tab_id={tab}", "--wait-saga", timeout=120)

    assert closed.returncode == 1, closed.stdout + closed.stderr
    assert await tab_status(url, tab) == "compensated"
    assert await balances(url, guest) == ["10.00"]
    shown = run_cli(tabs_env, "sagas", "show", tab, "--kind", "tab", "--json")
    assert shown.returncode == 0, shown.stderr
    steps = [(s["step"], s["status"]) for s in json.loads(shown.stdout)["status"]["steps"]]
    assert ("tab_credit", "refused") in steps
    assert ("tab_refund", "succeeded") in steps


async def test_a_tab_for_an_unknown_account_is_refused_through_the_accounts_read_port(
    tabs_env: dict[str, str], tabs_worker: WorkerProcess
) -> None:
    async with BusClient(tabs_env["AMQP_URL"]) as bus:
        await open_funded(bus, house := new_id("h"), None)
        outcome = await bus.call("OpenTab", open_tab(new_id("tab"), "nobody-here", house))

    assert outcome["status"] == "rejected"
    assert outcome["error"]["code"] == "account_not_found"


async def test_a_malformed_tab_command_waits_in_the_contexts_own_dead_letter_queue(
    tabs_env: dict[str, str], tabs_worker: WorkerProcess
) -> None:
    async with BusClient(tabs_env["AMQP_URL"]) as bus:
        await bus.publish("AddToTab", add(new_id("tab"), "beer", 0, "4.50"), reply=False)

    listed = run_cli(tabs_env, "dlq", "list", "--queue", "tabs.commands", "--json")

    assert listed.returncode == 0, listed.stderr
    assert "schema_validation_failed" in listed.stdout
    assert "tabs.commands.dlq" in listed.stdout


def test_a_client_cannot_use_the_message_ids_of_the_contexts_saga(
    tabs_env: dict[str, str],
) -> None:
    sent = run_cli(
        tabs_env, "send", "CloseTab", "tab_id=t-1", "--message-id", "tab-t-1/tab_charge/1"
    )

    assert sent.returncode == 2
    assert "reserved_message_id" in sent.stderr


async def test_check_runs_the_contexts_own_check_beside_the_money_check(
    tabs_env: dict[str, str], tabs_worker: WorkerProcess
) -> None:
    url, tab, guest, house = tabs_env["DATABASE_URL"], new_id("tab"), new_id("g"), new_id("h")
    async with BusClient(tabs_env["AMQP_URL"]) as bus:
        await open_funded(bus, guest, None)
        await open_funded(bus, house, None)
        assert (await bus.call("OpenTab", open_tab(tab, guest, house)))["status"] == "accepted"
        assert (await bus.call("AddToTab", add(tab, "tea", 1, "3.00")))["status"] == "accepted"

    clean = run_cli(tabs_env, "check", "--json", timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    report = json.loads(clean.stdout)
    assert report["tabs"]["checked"] >= 1
    assert "accounts_checked" in report  # the money check's figures, beside it

    await pg_fetch(url, "UPDATE tab_lines SET quantity = 0 WHERE tab_id = $1", tab)
    broken = run_cli(tabs_env, "check", "--json", timeout=120)
    await pg_fetch(url, "UPDATE tab_lines SET quantity = 1 WHERE tab_id = $1", tab)

    assert broken.returncode == 1, broken.stdout + broken.stderr
    violations = json.loads(broken.stdout)["violations"]
    assert {"kind": "tab_line", "subject": tab, "detail": "line 1 holds 0 items"} in violations
