"""The read side end to end: projections and the loyalty policy following real traffic,
through AMQP and the CLI, against RabbitMQ, PostgreSQL and the Temporal dev server.

One private environment for the module, one worker for commands and sagas, and one
process running the handlers alone, which tests stop and restart. Its retries are
short, and its keeper waits long before it applies from the log what no delivery
brought: so a dead-lettered event comes back only when the operator resends it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest
from aio_pika.abc import AbstractIncomingMessage

from tests.e2e.harness import BusClient, WorkerProcess, money, open_account
from tests.e2e.orders_support import (
    accepted,
    add_product,
    balances,
    customer,
    draft,
    funded_customer,
    new_id,
    new_sku,
    wait_for_orders,
)
from tests.e2e.private_env import private_env
from tests.e2e.read_side_support import (
    FailureSwitch,
    by_name,
    caught_up,
    cli,
    cli_json,
    cli_jsons,
    event_ids,
    fields,
    live_generation,
    loyalty_record,
    movements,
    next_message,
    publish_with_pika,
    put_on_queue,
    statement_rows,
    statements,
    wait_for,
    wait_for_ready,
)
from tests.e2e.test_sagas import transfer, wait_for_states
from tests.services import pg_fetch

pytestmark = pytest.mark.e2e

MOVEMENTS = ("accounts.MoneyDeposited", "accounts.MoneyWithdrawn")
POINTS_SQL = "SELECT loyalty_points FROM customers WHERE id = $1"


@pytest.fixture(scope="module")
def env(temporal_address: str) -> Iterator[dict[str, str]]:
    with private_env("readside", temporal_address) as env:
        yield env


@pytest.fixture(scope="module")
def switch(tmp_path_factory: pytest.TempPathFactory) -> FailureSwitch:
    """Turns the handler process's account_statement failing, and back."""
    return FailureSwitch(tmp_path_factory.mktemp("readside") / "account_statement-fails")


@pytest.fixture
def failing_statement(switch: FailureSwitch) -> Iterator[FailureSwitch]:
    """account_statement fails until the test turns it back (or ends)."""
    switch.on()
    yield switch
    switch.off()


@pytest.fixture(scope="module")
def worker(env: dict[str, str], logs: Path) -> Iterator[WorkerProcess]:
    args = ("run", "--role", "commands", "--role", "sagas")
    process = WorkerProcess(env, logs, name="commands", args=args).start()
    yield process
    assert process.stop() == 0, process.log()


@pytest.fixture(scope="module")
def handlers(env: dict[str, str], logs: Path, switch: FailureSwitch) -> Iterator[WorkerProcess]:
    hooks = {
        "RETRY_DELAYS": "0.3,0.6",
        "IMMEDIATE_RETRIES": "1",
        "HANDLER_CATCH_UP_SECONDS": "120",
        "TEST_FAIL_HANDLER": "account_statement",
        "TEST_FAIL_HANDLER_WHILE": str(switch.path),
    }
    args = ("run", "--role", "handlers")
    process = WorkerProcess({**env, **hooks}, logs, name="handlers", args=args).start()
    yield process
    assert process.stop() == 0, process.log()


@pytest.fixture
async def bus(
    env: dict[str, str], worker: WorkerProcess, handlers: WorkerProcess
) -> AsyncIterator[BusClient]:
    """A client, once both processes are up: the handlers' queues exist before any event."""
    async with BusClient(env["AMQP_URL"]) as client:
        yield client


@dataclass(frozen=True)
class Traffic:
    """What :func:`traffic` did: accounts moved by hand and by a transfer, and a customer
    whose order was confirmed (and the copy of its event the broker delivered)."""

    ada: str
    bob: str
    deposit_id: str
    transfer_id: str
    customer_id: str
    pays: str
    order_id: str
    mug: str
    #: As the broker delivered it to a queue of the test's own.
    order_confirmed: AbstractIncomingMessage | None = None


@pytest.fixture(scope="module")
async def traffic(env: dict[str, str], worker: WorkerProcess, handlers: WorkerProcess) -> Traffic:
    """Deposits, a withdrawal, a transfer and a confirmed order, once the handlers applied
    every event and the policy's points arrived."""
    url = env["DATABASE_URL"]
    done = Traffic(
        ada=new_id("ada"),
        bob=new_id("bob"),
        deposit_id=new_id("dep"),
        transfer_id=new_id("t"),
        customer_id=new_id("cus"),
        pays=new_id("pay"),
        order_id=new_id("o"),
        mug=new_sku("MUG"),
    )
    async with BusClient(env["AMQP_URL"]) as bus:
        confirmed = await bus.subscribe_events("orders.OrderConfirmed")
        for account in (done.ada, done.bob):
            await accepted(bus, "OpenAccount", open_account(account))
        reply = await bus.call("Deposit", money(done.ada, "100.00"), message_id=done.deposit_id)
        assert reply["status"] == "accepted", reply
        await accepted(bus, "Withdraw", money(done.ada, "10.00"))
        await accepted(bus, "Deposit", money(done.bob, "5.00"))
        await accepted(
            bus, "TransferMoney", transfer(done.transfer_id, done.ada, done.bob, "20.00")
        )
        await funded_customer(bus, done.customer_id, done.pays, "50.00")
        await add_product(bus, done.mug, "12.75", stock=5)
        await draft(bus, done.order_id, done.customer_id, {done.mug: 2})
        await accepted(bus, "PlaceOrder", {"order_id": done.order_id})
        await wait_for_states(url, [done.transfer_id], {"completed"})
        ended = await wait_for_orders(url, [done.order_id])
        assert ended[done.order_id]["status"] == "confirmed", ended
        await wait_for(url, POINTS_SQL, done.customer_id, wanted=25)  # floor(25.50)
        await caught_up(url)
        return replace(done, order_confirmed=await next_message(confirmed))


async def test_the_projections_follow_deposits_a_withdrawal_a_transfer_and_an_order(
    traffic: Traffic, env: dict[str, str]
) -> None:
    t = traffic
    ada, bob, pays, accounts, orders, stock = await cli_jsons(
        env,
        ("accounts", "statement", t.ada),
        ("accounts", "statement", t.bob),
        ("accounts", "statement", t.pays),
        ("accounts", "list"),
        ("customers", "orders", t.customer_id),
        ("products", "availability", "--sku", t.mug),
    )

    assert movements(ada) == [
        ("deposit", "100.00", "100.00"),
        ("withdrawal", "-10.00", "90.00"),
        ("transfer.withdraw", "-20.00", "70.00"),
    ]
    assert movements(bob) == [("deposit", "5.00", "5.00"), ("transfer.deposit", "20.00", "25.00")]
    assert movements(pays) == [("deposit", "50.00", "50.00"), ("order.charge", "-25.50", "24.50")]
    assert ada["entries"][0]["cause"] == t.deposit_id
    assert ada["entries"][2]["cause"] == f"transfer-{t.transfer_id}/withdraw/1"
    assert pays["entries"][1]["cause"] == f"order-{t.order_id}/charge/1"
    balance = {a["account_id"]: a["balance"] for a in accounts}
    for statement in (ada, bob, pays):
        entries, account = statement["entries"], statement["account_id"]
        positions = [e["position"] for e in entries]
        assert positions == sorted(set(positions)), statement
        assert entries[-1]["balance"] == balance[account]
        assert sum(Decimal(e["amount"]) for e in entries) == Decimal(balance[account])
    [order] = orders["orders"]
    assert fields(order, "order_id", "status", "total", "lines") == (
        t.order_id, "confirmed", "25.50", 1
    )  # fmt: skip
    assert order["placed_at"] and order["ended_at"], order
    [product] = stock
    assert fields(product, "sku", "on_hand", "reserved", "available") == (t.mug, 3, 0, 3)


async def test_a_confirmed_order_earns_its_whole_units_once_even_when_its_event_comes_again(
    traffic: Traffic, bus: BusClient, env: dict[str, str]
) -> None:
    url, event = env["DATABASE_URL"], traffic.order_confirmed
    queue = "award_loyalty_points.events"
    assert event is not None and json.loads(event.body)["order_id"] == traffic.order_id

    await put_on_queue(bus, queue, event.body, message_id=event.message_id, event_type=event.type)
    marker = new_id("no-such-event")  # dead-lettered behind the copy: the copy was taken
    await put_on_queue(bus, queue, event.body, message_id=marker, event_type=event.type)
    [letter] = await bus.drain(f"{queue}.dlq", 1)
    shown = await cli_json(env, "customers", "show", traffic.customer_id)

    assert (letter.message_id, letter.headers["error-code"]) == (marker, "unknown_event")
    assert shown["loyalty_points"] == 25
    issued = await pg_fetch(
        url, "SELECT message_id FROM command_outbox WHERE causation_id = $1", event.message_id
    )
    assert [row["message_id"] for row in issued] == [
        f"policy-award_loyalty_points/{event.message_id}/0"
    ]


async def test_an_outside_client_cannot_award_loyalty_points_under_any_message_id(
    bus: BusClient, env: dict[str, str]
) -> None:
    who, pays = new_id("greedy"), new_id("greedy-acc")
    await funded_customer(bus, who, pays, "1.00")
    award = {"customer_id": who, "order_id": new_id("o"), "points": 1000}
    forged_id = f"policy-award_loyalty_points/{new_id('event')}/0"

    ordinary = await bus.publish("AwardLoyaltyPoints", award, headers={"test-case": "ordinary"})
    forged = await bus.publish(
        "AwardLoyaltyPoints", award, message_id=forged_id, headers={"test-case": "forged"}
    )
    await accepted(bus, "RegisterCustomer", customer(new_id("after"), pays))

    letters = await bus.drain("customers.commands.dlq", 2)
    codes = {str(m.headers["test-case"]): m.headers["error-code"] for m in letters}
    assert codes == {"ordinary": "reserved_command", "forged": "reserved_message_id"}
    answers = [await bus.outcome(ordinary), await bus.outcome(forged)]
    assert [(a["status"], a["error"]["code"]) for a in answers] == [
        ("invalid", "reserved_command"),
        ("invalid", "reserved_message_id"),
    ]
    assert (await cli_json(env, "customers", "show", who))["loyalty_points"] == 0


async def test_a_failing_handler_dead_letters_its_events_while_the_others_and_commands_go_on(
    bus: BusClient, env: dict[str, str], failing_statement: FailureSwitch
) -> None:
    url = env["DATABASE_URL"]
    who, account, order_id, sku = new_id("fail"), new_id("fail-acc"), new_id("o"), new_sku("FAIL")
    await funded_customer(bus, who, account, "30.00")
    await accepted(bus, "Withdraw", money(account, "5.00"))
    await add_product(bus, sku, "2.00", stock=7)
    await draft(bus, order_id, who, {sku: 1})
    await wait_for_ready(bus, "account_statement.events.dlq", 2)
    following = ["customer_orders", "product_availability"]
    await caught_up(url, following)

    listed, standing, orders, stock = await cli_jsons(
        env,
        ("dlq", "list", "--queue", "account_statement.events"),
        ("projections", "list"),
        ("customers", "orders", who),
        ("products", "availability", "--sku", sku),
    )

    [dlq] = listed
    letters = [letter for group in dlq["groups"] for letter in group["messages"]]
    assert dlq["dlq"] == "account_statement.events.dlq"
    assert [letter["message_id"] for letter in letters] == await event_ids(url, account, MOVEMENTS)
    assert [group["error_code"] for group in dlq["groups"]] == ["handler_failed"]
    handlers = by_name(standing)
    failing = handlers.pop("account_statement")
    assert (failing["state"], failing["lag_events"]) == ("failing", 2), failing
    assert "TEST_FAIL_HANDLER" in failing["last_error"]
    assert [handlers[name]["state"] for name in following] == ["live", "live"]
    [order] = orders["orders"]
    assert (order["order_id"], order["status"], order["lines"]) == (order_id, "draft", 1)
    assert [(p["on_hand"], p["reserved"], p["available"]) for p in stock] == [(7, 0, 7)]

    failing_statement.off()
    resend = ("dlq", "resend", "--queue", "account_statement.events", "--all")
    code, out, err = await cli(env, *resend, "--watch-timeout", "10", "--json")
    assert code == 0, (out, err)
    report = json.loads(out)
    assert (report["accepted"], report["failed_again"], report["left_in_dlq"]) == (2, 0, 0)
    await caught_up(url, ["account_statement"])
    statement, standing = await cli_jsons(
        env, ("accounts", "statement", account), ("projections", "list")
    )
    assert movements(statement) == [("deposit", "30.00", "30.00"), ("withdrawal", "-5.00", "25.00")]
    assert by_name(standing)["account_statement"]["state"] == "live"


async def test_a_stopped_handler_process_falls_behind_and_catches_up_once_it_is_back(
    bus: BusClient, env: dict[str, str], handlers: WorkerProcess
) -> None:
    url = env["DATABASE_URL"]
    account = new_id("lag")
    await accepted(bus, "OpenAccount", open_account(account))
    assert handlers.stop() == 0, handlers.log()
    try:
        for amount in ("1.00", "2.00", "3.00"):
            await accepted(bus, "Deposit", money(account, amount))
        await caught_up(url, handlers=())
        first = by_name(await cli_json(env, "projections", "list"))["account_statement"]
        later = by_name(await cli_json(env, "projections", "list"))["account_statement"]
    finally:
        handlers.start()

    assert (first["lag_events"], later["lag_events"]) == (3, 3)
    assert 0 < first["lag_seconds"] < later["lag_seconds"], (first, later)
    assert later["position"] < later["head"]
    assert later["state"] in {"catching_up", "stopped"}
    await caught_up(url)
    standing, statement = await cli_jsons(
        env, ("projections", "list"), ("accounts", "statement", account)
    )
    assert {(h["lag_events"], h["lag_seconds"], h["head"] - h["position"]) for h in standing} == {
        (0, 0.0, 0)
    }
    assert by_name(standing)["account_statement"]["state"] == "live"
    assert [e["balance"] for e in statement["entries"]] == ["1.00", "3.00", "6.00"]


async def test_a_rebuild_during_traffic_swaps_in_what_a_rebuild_from_the_log_alone_gives(
    bus: BusClient, env: dict[str, str]
) -> None:
    url = env["DATABASE_URL"]
    accounts = [new_id("rb"), new_id("rb")]
    for account in accounts:
        await accepted(bus, "OpenAccount", open_account(account))
    loyalty = await loyalty_record(url)
    generation = await live_generation(url)
    sent = 0
    stop = asyncio.Event()

    async def traffic() -> None:
        nonlocal sent
        while not stop.is_set():
            await accepted(bus, "Deposit", money(accounts[sent % 2], "0.25"))
            sent += 1

    publisher = asyncio.create_task(traffic())
    try:
        while sent < 4:
            await asyncio.sleep(0.01)
        before = sent
        rebuilt = await cli(env, "projections", "rebuild", "account_statement")
        during = sent - before
    finally:
        stop.set()
        await publisher
    assert rebuilt[0] == 0, rebuilt
    assert during > 0, "no deposit while the rebuild ran"
    await caught_up(url)
    first = await statements(env, accounts)
    rows = await statement_rows(url)

    again = await cli(env, "projections", "rebuild", "account_statement")
    second, refused = await asyncio.gather(
        statements(env, accounts), cli(env, "projections", "rebuild", "award_loyalty_points")
    )

    assert again[0] == 0, again
    assert second == first
    assert await statement_rows(url) == rows
    assert await live_generation(url) == generation + 2
    assert refused[0] == 2 and "policies are never rebuilt" in refused[2], refused
    balance = await balances(url, accounts)
    for account, text in zip(accounts, first, strict=True):
        entries = json.loads(text)["entries"]
        assert len(entries) == len(range(accounts.index(account), sent, 2))
        assert entries[-1]["balance"] == balance[account]
        assert sum(Decimal(e["amount"]) for e in entries) == Decimal(balance[account])
    assert await loyalty_record(url) == loyalty


async def test_hostile_messages_on_a_handlers_queue_are_dead_lettered_and_stall_nothing(
    bus: BusClient, env: dict[str, str]
) -> None:
    url = env["DATABASE_URL"]
    queue, account, sku = "product_availability.events", new_id("foreign"), new_sku("AFTER")
    await accepted(bus, "OpenAccount", open_account(account))
    await accepted(bus, "Deposit", money(account, "1.00"))
    await caught_up(url, handlers=())
    [foreign] = await event_ids(url, account, MOVEMENTS)
    cases = {"no-id": None, "not-logged": new_id("no-such-event"), "foreign": foreign}

    body = json.dumps({"sku": sku, "on_hand": 1000}).encode()
    for case, message_id in cases.items():
        await asyncio.to_thread(
            publish_with_pika,
            env["AMQP_URL"],
            queue,
            body,
            message_id=message_id,
            event_type="catalog.ProductRestocked",  # what they claim: the log tells otherwise
            headers={"test-case": case},
        )
    await add_product(bus, sku, "1.00", stock=4)

    letters = await bus.drain(f"{queue}.dlq", 3)
    codes = {str(m.headers["test-case"]): m.headers["error-code"] for m in letters}
    assert codes == {
        "no-id": "invalid_event_id",
        "not-logged": "unknown_event",
        "foreign": "not_subscribed",
    }
    await caught_up(url, ["product_availability"])
    [product] = await cli_json(env, "products", "availability", "--sku", sku)
    assert (product["on_hand"], product["reserved"], product["available"]) == (4, 0, 4)
