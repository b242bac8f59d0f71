"""Orders end to end, through AMQP only: customers, products and orders published as an outside
client would, against the real worker, RabbitMQ, PostgreSQL and the Temporal dev server.

The module has a database, a vhost and task queues of its own: ``check`` must find
it clean, and the shared database holds transfers other tests leave waiting for an
operator on purpose. One worker serves every test of the module.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from tests.e2e.harness import BusClient, WorkerProcess, open_account, run_cli
from tests.e2e.orders_support import (
    accepted,
    add_product,
    bad_input,
    balances,
    charges,
    customer,
    draft,
    funded_customer,
    lines,
    new_id,
    new_sku,
    orders,
    stock,
    unexpected_errors,
    wait_for_completed,
    wait_for_orders,
    workflow_runs,
)
from tests.e2e.private_env import private_env
from tests.e2e.test_sagas import transfer, wait_for_states
from tests.services import (
    pg_fetch,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def env(temporal_address: str) -> Iterator[dict[str, str]]:
    """A fresh database and vhost, and task queues no other worker polls."""
    with private_env("orders", temporal_address) as env:
        yield env


@pytest.fixture(scope="module")
def worker(env: dict[str, str], logs: Path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(env, logs).start()
    yield process
    assert process.stop() == 0, process.log()


@pytest.fixture
async def bus(env: dict[str, str], worker: WorkerProcess) -> AsyncIterator[BusClient]:
    async with BusClient(env["AMQP_URL"]) as client:
        yield client


@pytest.fixture
async def temporal(env: dict[str, str]) -> Client:
    return await Client.connect(env["TEMPORAL_ADDRESS"])


def cli_json(env: dict[str, str], *args: str) -> Any:
    done = run_cli(env, *args, "--json")
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return json.loads(done.stdout)


async def test_a_placed_order_is_confirmed_charged_its_total_and_takes_its_stock(
    bus: BusClient, env: dict[str, str], temporal: Client
) -> None:
    url = env["DATABASE_URL"]
    who, account = new_id("ada"), new_id("ada-acc")
    mug, tea = new_sku("MUG"), new_sku("TEA")
    await funded_customer(bus, who, account, "100.00")
    await add_product(bus, mug, "12.50", stock=20)
    await add_product(bus, tea, "3.30", stock=30)
    order_id = new_id("o")
    await draft(bus, order_id, who, {mug: 2, tea: 10})

    await accepted(bus, "PlaceOrder", {"order_id": order_id})
    ended = await wait_for_orders(url, [order_id])

    assert (ended[order_id]["status"], ended[order_id]["reason"]) == ("confirmed", "")
    assert await balances(url, [account]) == {account: "43.65"}  # 100.00 - (25.00 + 31.35)
    assert await charges(url, [order_id]) == [order_id]
    assert (await stock(url, mug), await stock(url, tea)) == ((18, 0), (20, 0))
    shown = cli_json(env, "orders", "show", order_id)
    assert (shown["status"], shown["total"], shown["currency"]) == ("confirmed", "56.35", "EUR")
    assert shown["lines"] == [
        {"sku": mug, "quantity": 2, "unit_price": "12.50", "discount": "0.00", "subtotal": "25.00"},
        {"sku": tea, "quantity": 10, "unit_price": "3.30", "discount": "1.65", "subtotal": "31.35"},
    ]

    by_cli = new_id("o")
    await draft(bus, by_cli, who, {mug: 1})
    sent = run_cli(env, "send", "PlaceOrder", f"order_id={by_cli}", "--wait-saga")
    assert sent.returncode == 0, (sent.stdout, sent.stderr)
    assert f"saga confirmed order_id={by_cli}" in sent.stdout.splitlines()
    assert await balances(url, [account]) == {account: "31.15"}
    assert await stock(url, mug) == (17, 0)
    await wait_for_completed(temporal, [order_id, by_cli])


async def test_ten_concurrent_orders_for_the_last_five_units_confirm_five_and_reject_five(
    bus: BusClient, env: dict[str, str], temporal: Client
) -> None:
    url = env["DATABASE_URL"]
    lamp = new_sku("LAMP")
    await add_product(bus, lamp, "10.00", stock=5)
    buyers = [(new_id("c"), new_id("acc"), new_id("o")) for _ in range(10)]
    await asyncio.gather(*(funded_customer(bus, c, a, "50.00") for c, a, _ in buyers))
    await asyncio.gather(*(draft(bus, o, c, {lamp: 1}) for c, _, o in buyers))
    order_ids = [o for _, _, o in buyers]

    placed = await asyncio.gather(*(bus.publish("PlaceOrder", {"order_id": o}) for o in order_ids))
    assert [(await bus.outcome(p))["status"] for p in placed] == ["accepted"] * 10
    ended = await wait_for_orders(url, order_ids, timeout=90)

    confirmed = sorted(o for o, row in ended.items() if row["status"] == "confirmed")
    rejected = {o: row for o, row in ended.items() if row["status"] == "rejected"}
    assert (len(confirmed), len(rejected)) == (5, 5), {o: r["status"] for o, r in ended.items()}
    assert all(row["reason"].startswith("out_of_stock") for row in rejected.values()), rejected
    assert await stock(url, lamp) == (0, 0)
    assert await charges(url, order_ids) == confirmed
    after = await balances(url, [a for _, a, _ in buyers])
    assert sorted(after[a] for _, a, o in buyers if o in confirmed) == ["40.00"] * 5
    assert sorted(after[a] for _, a, o in buyers if o in rejected) == ["50.00"] * 5
    await wait_for_completed(temporal, order_ids)


async def test_a_duplicate_place_order_under_a_new_message_id_starts_one_saga_and_charges_once(
    bus: BusClient, env: dict[str, str], temporal: Client
) -> None:
    url = env["DATABASE_URL"]
    who, account, order_id = new_id("dup"), new_id("dup-acc"), new_id("o")
    book = new_sku("BOOK")
    await funded_customer(bus, who, account, "30.00")
    await add_product(bus, book, "7.00", stock=4)
    await draft(bus, order_id, who, {book: 2})

    first = await bus.publish("PlaceOrder", {"order_id": order_id})
    again = await bus.publish("PlaceOrder", {"order_id": order_id})  # a new message id
    replies = [await bus.outcome(first), await bus.outcome(again)]
    await wait_for_orders(url, [order_id])
    await wait_for_completed(temporal, [order_id])

    assert sorted(r["status"] for r in replies) == ["accepted", "rejected"]
    [refused] = [r for r in replies if r["status"] == "rejected"]
    assert refused["error"]["code"] == "order_not_draft"
    assert (await orders(url, [order_id]))[order_id]["status"] == "confirmed"
    assert await workflow_runs(temporal, order_id) == [WorkflowExecutionStatus.COMPLETED]
    assert await charges(url, [order_id]) == [order_id]
    assert await balances(url, [account]) == {account: "16.00"}
    assert await stock(url, book) == (2, 0)


async def test_an_order_whose_account_lacks_funds_is_rejected_and_its_stock_is_available_again(
    bus: BusClient, env: dict[str, str], temporal: Client
) -> None:
    url = env["DATABASE_URL"]
    who, account, order_id = new_id("poor"), new_id("poor-acc"), new_id("o")
    chair = new_sku("CHAIR")
    await funded_customer(bus, who, account, "5.00")
    await add_product(bus, chair, "40.00", stock=3)
    await draft(bus, order_id, who, {chair: 2})

    await accepted(bus, "PlaceOrder", {"order_id": order_id})
    ended = await wait_for_orders(url, [order_id])

    assert ended[order_id]["status"] == "rejected"
    assert ended[order_id]["reason"].startswith("insufficient_funds"), ended[order_id]
    assert await stock(url, chair) == (3, 0)
    assert await balances(url, [account]) == {account: "5.00"}
    assert await charges(url, [order_id]) == []
    await wait_for_completed(temporal, [order_id])


async def test_send_wait_saga_exits_1_and_names_the_state_when_the_order_is_rejected(
    bus: BusClient, env: dict[str, str]
) -> None:
    who, account, order_id = new_id("broke"), new_id("broke-acc"), new_id("o")
    desk = new_sku("DESK")
    await funded_customer(bus, who, account, "1.00")
    await add_product(bus, desk, "90.00", stock=1)
    await draft(bus, order_id, who, {desk: 1})

    sent = run_cli(env, "send", "PlaceOrder", f"order_id={order_id}", "--wait-saga")

    assert sent.returncode == 1, (sent.stdout, sent.stderr)
    assert f"saga rejected order_id={order_id}" in sent.stdout.splitlines()


async def test_a_cancelled_draft_ends_at_once_and_a_confirmed_order_cannot_be_cancelled(
    bus: BusClient, env: dict[str, str]
) -> None:
    url = env["DATABASE_URL"]
    who, account = new_id("cancel"), new_id("cancel-acc")
    pen = new_sku("PEN")
    await funded_customer(bus, who, account, "20.00")
    await add_product(bus, pen, "2.00", stock=10)
    kept, dropped = new_id("o"), new_id("o")
    await draft(bus, kept, who, {pen: 3})
    await draft(bus, dropped, who, {pen: 4})
    await accepted(bus, "PlaceOrder", {"order_id": kept})

    await accepted(bus, "CancelOrder", {"order_id": dropped, "reason": "changed my mind"})
    right_away = (await orders(url, [dropped]))[dropped]
    await wait_for_orders(url, [kept])
    late = await bus.call("CancelOrder", {"order_id": kept, "reason": "too late"})

    assert (right_away["status"], right_away["reason"]) == ("cancelled", "changed my mind")
    assert (late["status"], late["error"]["code"]) == ("rejected", "order_not_cancellable")
    assert (await orders(url, [kept]))[kept]["status"] == "confirmed"
    assert await stock(url, pen) == (7, 0)
    assert await balances(url, [account]) == {account: "14.00"}


async def listed_sagas(env: dict[str, str], ids: set[str], timeout: float = 10) -> Any:
    """``sagas list --json``'s entries of ``ids`` by (kind, id), once every one has ended
    (the list is a visibility query, which lags the workflows a little)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        listed = cli_json(env, "sagas", "list")
        mine = {(s["kind"], s["id"]): s for s in listed if s["id"] in ids}
        settled = len(mine) >= len(ids) and all(s["state"] != "running" for s in mine.values())
        if settled or asyncio.get_running_loop().time() > deadline:
            return mine
        await asyncio.sleep(0.3)


async def test_sagas_list_shows_order_sagas_beside_transfers_and_show_takes_the_orders_kind(
    bus: BusClient, env: dict[str, str], temporal: Client
) -> None:
    url = env["DATABASE_URL"]
    who, account, order_id = new_id("list"), new_id("list-acc"), new_id("o")
    other, tid = new_id("list-other"), new_id("t")
    cup = new_sku("CUP")
    await funded_customer(bus, who, account, "20.00")
    await accepted(bus, "OpenAccount", open_account(other))
    await add_product(bus, cup, "4.00", stock=2)
    await draft(bus, order_id, who, {cup: 1})
    await accepted(bus, "PlaceOrder", {"order_id": order_id})
    await accepted(bus, "TransferMoney", transfer(tid, account, other, "1.00"))
    await wait_for_orders(url, [order_id])
    await wait_for_states(url, [tid], {"completed"})
    await wait_for_completed(temporal, [order_id])

    mine = await listed_sagas(env, {order_id, tid})
    shown = cli_json(env, "sagas", "show", order_id, "--kind", "orders")

    assert set(mine) == {("order", order_id), ("transfer", tid)}, mine
    order_saga = mine[("order", order_id)]
    assert (order_saga["order_id"], order_saga["workflow_id"]) == (order_id, f"order-{order_id}")
    assert order_saga["state"] == "completed"
    assert mine[("transfer", tid)]["transfer_id"] == tid
    assert (shown["kind"], shown["order_id"], shown["state"]) == ("order", order_id, "completed")
    steps = [(step["step"], step["status"]) for step in shown["status"]["steps"]]
    for step in ("reserve_stock", "start_charge", "charge", "commit_stock"):
        assert (step, "succeeded") in steps, steps


async def dead_letters(bus: BusClient, dlq: str, wanted: int) -> dict[str, Any]:
    """The messages taken off a dead-letter queue, by their ``test-case`` header."""
    return {str((m.headers or {}).get("test-case")): m for m in await bus.drain(dlq, wanted)}


async def test_bad_order_input_is_dead_lettered_with_its_reason_and_stalls_nothing(
    bus: BusClient, env: dict[str, str]
) -> None:
    url = env["DATABASE_URL"]
    who, account, order_id = new_id("dlq"), new_id("dlq-acc"), new_id("o")
    soap = new_sku("SOAP")
    await funded_customer(bus, who, account, "10.00")
    await add_product(bus, soap, "1.50", stock=5)
    await draft(bus, order_id, who, {})
    table = bad_input(order_id, account)
    sent = [
        await bus.publish(bad.command, bad.body, message_id=bad.message_id, headers=headers)
        for bad in table
        for headers in [{"test-case": bad.case}]
    ]

    await accepted(bus, "AddLineItem", {"order_id": order_id, "sku": soap, "quantity": 3})
    await accepted(bus, "RegisterCustomer", customer(new_id("after"), account))
    found: dict[str, Any] = {}
    for dlq, wanted in Counter(bad.dlq for bad in table).items():
        found |= await dead_letters(bus, dlq, wanted)

    for bad in table:
        assert bad.case in found, f"{bad.case} is not in {bad.dlq}"
        headers = found[bad.case].headers
        assert (headers["error-code"], headers["original-queue"]) == (bad.code, bad.queue)
        assert json.loads(found[bad.case].body) == bad.body, "the body is kept for a retry"
    answers = [await bus.outcome(correlation_id) for correlation_id in sent]
    assert [(a["status"], a["error"]["code"]) for a in answers] == [
        ("invalid", bad.code) for bad in table
    ]
    reason = {case: str(letter.headers["error-message"]) for case, letter in found.items()}
    assert reason["text-quantity"].startswith("AddLineItem: quantity: "), reason
    assert "integer" in reason["text-quantity"], reason
    assert "billing_address.country" in reason["unknown-country"], reason
    assert "billing_address.country" in reason["lower-case-country"], reason
    assert reason["client-reserves"].startswith("unknown command 'ReserveStock'"), reason
    assert await lines(url, order_id) == [(soap, 3)]
    assert (await orders(url, [order_id]))[order_id]["status"] == "draft"


async def test_after_all_of_that_check_is_clean_and_reports_orders_and_stock(
    env: dict[str, str], worker: WorkerProcess
) -> None:
    url = env["DATABASE_URL"]
    statuses = await pg_fetch(url, "SELECT status, count(*) AS n FROM orders GROUP BY status")
    [confirmed] = await pg_fetch(
        url, "SELECT COALESCE(sum(total), 0) AS t FROM orders WHERE status = 'confirmed'"
    )
    [money] = await pg_fetch(url, "SELECT sum(balance) AS balances FROM accounts")
    [products] = await pg_fetch(url, "SELECT count(*) AS n, sum(on_hand) AS on_hand FROM products")

    done = run_cli(env, "check", "--json")
    report = json.loads(done.stdout)

    assert (done.returncode, report["ok"], report["violations"]) == (0, True, []), done.stderr
    figures = report["orders"]
    by_status = {str(row["status"]): row["n"] for row in statuses}
    assert (figures["by_status"], figures["orders_checked"]) == (by_status, sum(by_status.values()))
    assert figures["orders_not_verifiable"] == 0
    assert figures["charged"] == {"EUR": f"{confirmed['t']:.2f}"}
    assert report["totals"]["EUR"]["balances"] == f"{money['balances']:.2f}"
    catalog = report["catalog"]
    assert (catalog["products"], catalog["on_hand"]) == (products["n"], products["on_hand"])
    assert catalog["reserved"] == 0
    assert unexpected_errors(worker.log()) == []
