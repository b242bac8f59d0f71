"""The orders checker itself, on a made-up shop: it must catch what scenario 9 guards against."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from tests.faults.observe import Event, Snapshot
from tests.faults.order_checker import build_order_report
from tests.faults.order_facts import OrderRow, ShopEvent, ShopFacts
from tests.faults.orders import (
    PRODUCTS,
    Customer,
    OrderPlan,
    add_lines,
    add_product,
    cancel,
    create,
    place,
    register,
)
from tests.faults.report import Report
from tests.faults.traffic import Ledger, Planned
from tests.faults.workloads import deposit, open_account

pytestmark = pytest.mark.faults

ORDER, ACCOUNT, SKU = "ord-00000001", "pay-1", "PLENTY-A"
CHARGE = f"order-{ORDER}/charge/1"


def money(kind: str, version: int, cause: str, amount: str) -> Event:
    return Event(f"e-{cause}", f"accounts.{kind}", ACCOUNT, version, cause, Decimal(amount), True)


class World:
    """One customer funded 100.00 whose order of 2 x 12.50 was confirmed, consistently."""

    def __init__(self, ends: frozenset[str] = frozenset({"confirmed"})) -> None:
        customer = Customer("cust-1", ACCOUNT, "100.00")
        self.plan = OrderPlan(ORDER, customer, {SKU: 2}, ends, frozenset({"out_of_stock"}))
        plenty = next(p for p in PRODUCTS if p.sku == SKU)
        self.messages: list[Planned] = [
            open_account(ACCOUNT),
            deposit(ACCOUNT, "100.00"),
            add_product(plenty),
            register(customer),
            create(self.plan),
            *add_lines(self.plan),
            place(self.plan),
        ]
        kinds = ["accounts.AccountOpened", "accounts.MoneyDeposited", "catalog.ProductAdded"]
        kinds += ["customers.CustomerRegistered", "orders.OrderCreated", "orders.OrderItemAdded"]
        ids = [ACCOUNT, ACCOUNT, SKU, "cust-1", ORDER, ORDER, ORDER]
        effects = [
            Event(f"e{n}", kind, target, n, m.message_id, m.delta or None, True)
            for n, (m, kind, target) in enumerate(
                zip(self.messages, [*kinds, "orders.OrderPlaced"], ids, strict=True), 1
            )
        ]
        self.snapshot = Snapshot(
            inbox={m.message_id or "": ("accepted", None) for m in self.messages},
            events=[*effects, money("MoneyWithdrawn", 3, CHARGE, "25.00")],
            balances={ACCOUNT: (Decimal("75.00"), 3)},
        )
        self.shop = ShopFacts(
            orders={ORDER: OrderRow(ORDER, ACCOUNT, "confirmed", "", Decimal("25.0000"))},
            lines={ORDER: {SKU: 2}},
            on_hand={SKU: 998},
            events=[
                ShopEvent(
                    "catalog.StockCommitted",
                    SKU,
                    f"order-{ORDER}/commit_stock/1/{SKU}",
                    {"order_id": ORDER, "quantity": 2},
                ),
                ShopEvent("orders.OrderConfirmed", ORDER, f"order-{ORDER}/record/1", {}),
            ],
        )

    def ended(self, status: str, reason: str = "") -> None:
        self.shop.orders[ORDER] = replace(self.shop.orders[ORDER], status=status, reason=reason)

    def report(self) -> Report:
        ledger = Ledger()
        for message in ledger.plan(self.messages):
            ledger.confirmed.add(message.ref)
        return build_order_report(ledger, [self.plan], self.snapshot, self.shop, {})


def test_a_consistent_shop_is_sound() -> None:
    report = World().report()
    assert report.ok, report.summary()


def test_a_confirmed_order_charged_twice_is_a_violation_and_breaks_the_total() -> None:
    world = World()
    world.snapshot.events.append(money("MoneyWithdrawn", 4, f"order-{ORDER}/charge/2", "25.00"))
    world.snapshot.balances[ACCOUNT] = (Decimal("50.00"), 4)
    violations = world.report().violations
    assert any("confirmed: charged" in v for v in violations), violations


def test_a_rejected_order_that_kept_its_charge_is_a_violation() -> None:
    world = World(frozenset({"confirmed", "rejected"}))
    world.ended("rejected", "out_of_stock: none left")
    world.shop.on_hand[SKU] = 1000
    world.shop.events.clear()
    violations = world.report().violations
    assert any(f"order {ORDER} rejected: charged" in v for v in violations), violations
    assert any("money: balances sum to 75.00" in v for v in violations), violations


def test_stock_that_does_not_add_up_is_a_violation() -> None:
    world = World()
    world.shop.on_hand[SKU] = 997
    violations = world.report().violations
    assert violations == [f"stock {SKU}: 997 on hand, but 1000 supplied - 2 sold = 998"]


def test_an_ended_order_still_holding_stock_is_a_violation() -> None:
    world = World()
    world.shop.held[(ORDER, SKU)] = 2
    assert world.report().violations == [f"order {ORDER} (confirmed) still holds 2 of {SKU}"]


def test_a_cancelled_order_whose_cancellation_was_refused_is_a_violation() -> None:
    world = World(frozenset({"confirmed", "cancelled"}))
    world.plan.cancel = cancel(ORDER)
    world.messages.append(world.plan.cancel)
    world.snapshot.inbox[world.plan.cancel.ref] = ("rejected", "order_not_cancellable")
    world.ended("cancelled", "changed my mind")
    assert any("but its CancelOrder was rejected" in v for v in world.report().violations)


def test_an_order_waiting_for_an_operator_is_settled_and_unexpected() -> None:
    world = World()
    world.ended("needs_operator", "commit_stock: stuck")
    report = world.report()
    assert report.settled and not report.ok
    assert report.unexpected == [
        f"order {ORDER} needs_operator (commit_stock: stuck), planned confirmed"
    ]


def test_stock_committed_then_returned_for_a_rejected_order_is_sound_and_kept_is_not() -> None:
    world = World(frozenset({"confirmed", "rejected"}))
    world.ended("rejected", "reservation_expired: PLENTY-A: out_of_stock")
    world.snapshot.events.append(
        money("MoneyDeposited", 4, f"order-{ORDER}/refund_charge/1", "25.00")
    )
    world.snapshot.balances[ACCOUNT] = (Decimal("100.00"), 4)
    world.shop.on_hand[SKU] = 1000
    returned = ShopEvent(
        "catalog.StockReturned", SKU, f"order-{ORDER}/release_stock/1/return/{SKU}",
        {"order_id": ORDER, "quantity": 2},
    )  # fmt: skip
    world.shop.events = [world.shop.events[0], returned]
    assert not [v for v in world.report().violations if SKU in v]

    world.shop.events.pop()
    world.shop.on_hand[SKU] = 998
    violations = world.report().violations
    assert f"order {ORDER} (rejected): {SKU} committed [2], returned 0" in violations, violations
