"""The orders scenario's checker.

It accounts for every confirmed message as the suite's checker does (applied once
with its event, rejected, dead-lettered, or lost; no message id with two effects),
and judges the shop by the orders' invariants (order_checks.py) where the suite's
checker judges transfers.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from decimal import Decimal

from tests.faults.broker import DeadLetter, read_broker, unacked_in
from tests.faults.checker import Checker, applied_twice, dead_letter_problems, outcome_of
from tests.faults.environment import Environment
from tests.faults.money import account_violations
from tests.faults.observe import Snapshot, read_database
from tests.faults.order_checks import (
    charge_problems,
    end_problems,
    ended_twice,
    plan_problems,
    stock_problems,
    total_problems,
)
from tests.faults.order_facts import ShopFacts, read_shop
from tests.faults.orders import OrderPlan
from tests.faults.report import Report
from tests.faults.traffic import Ledger, Planned

#: The event an accepted command records, and the field naming its aggregate.
EFFECTS = {
    "OpenAccount": ("accounts.AccountOpened", "account_id"),
    "Deposit": ("accounts.MoneyDeposited", "account_id"),
    "RegisterCustomer": ("customers.CustomerRegistered", "customer_id"),
    "AddProduct": ("catalog.ProductAdded", "sku"),
    "Restock": ("catalog.ProductRestocked", "sku"),
    "CreateOrder": ("orders.OrderCreated", "order_id"),
    "AddLineItem": ("orders.OrderItemAdded", "order_id"),
    "PlaceOrder": ("orders.OrderPlaced", "order_id"),
    "CancelOrder": ("orders.OrderCancellationRequested", "order_id"),
}


def effect_problems(message: Planned, outcome: str, snapshot: Snapshot) -> list[str]:
    """An accepted command caused exactly its one event, on its aggregate; others none."""
    caused = snapshot.effects.get(message.message_id or "", [])
    if outcome != "accepted":
        return (
            [f"{message.ref} ({message.command}) {outcome} yet caused {caused}"] if caused else []
        )
    kind, key = EFFECTS[message.command]
    target = message.body_json[key]
    if [(e.type, e.aggregate_id) for e in caused] != [(kind, target)]:
        found = [(e.type, e.aggregate_id) for e in caused]
        return [f"{message.ref} ({message.command} {target}) accepted, caused {found}"]
    if message.delta and caused[0].amount != abs(message.delta):
        return [f"{message.ref} moved {caused[0].amount}, not {abs(message.delta)}"]
    return []


def build_order_report(
    ledger: Ledger,
    plans: list[OrderPlan],
    snapshot: Snapshot,
    shop: ShopFacts,
    dead: dict[str, DeadLetter],
) -> Report:
    report = Report(sent=len(ledger.confirmed), published=ledger.publishes)
    funded, supplied = Decimal(0), defaultdict[str, int](int)
    for message in ledger.sent():
        outcome = outcome_of(message, snapshot, dead)
        report.outcomes[message.ref] = outcome
        report.violations += effect_problems(message, outcome, snapshot)
        if message.expect is not None and outcome not in (message.expect, "lost"):
            report.unexpected.append(f"{message.ref} {message.command}: {outcome}")
        if outcome == "accepted":
            funded += message.delta
            fields = message.body_json
            if message.command in ("AddProduct", "Restock"):
                supplied[fields["sku"]] += fields.get("stock", fields.get("quantity", 0))
    report.violations += dead_letter_problems(ledger, report, dead)
    report.duplicated = applied_twice(snapshot) + ended_twice(shop)
    report.unexpected += end_problems(plans, shop, report.outcomes)
    charges, held = charge_problems(shop, snapshot)
    report.violations += [
        *plan_problems(plans, shop, report.outcomes),
        *stock_problems(shop, supplied),
        *account_violations(snapshot),
        *charges,
        *total_problems(snapshot, funded, shop, held),
    ]
    report.unsettled = shop.running()
    report.unsent_events = snapshot.unsent
    return report


class OrdersChecker(Checker):
    """The suite's checker, reading the shop beside the accounts."""

    def __init__(self, env: Environment, ledger: Ledger, plans: list[OrderPlan]) -> None:
        super().__init__(env, ledger)
        self.plans = plans
        self.shop = ShopFacts()

    async def report(self) -> Report:
        letters, waiting = await read_broker(self._env.amqp_url, self._delays)
        for letter in letters:
            self.dead[letter.ref or letter.message_id or f"anonymous-{len(self.dead)}"] = letter
        snapshot = await read_database(self._env.database_url)
        self.shop = await read_shop(self._env.database_url)
        report = build_order_report(self._ledger, self.plans, snapshot, self.shop, self.dead)
        report.waiting = waiting
        if report.settled:  # the last look: what a worker holds unacked is waiting too
            report.waiting += await asyncio.to_thread(unacked_in, self._env.vhost)
        return report
