"""The orders scenario's shop: who orders what, and how each order may end (see orders.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tests.faults.orders import (
    CANCEL_AFTER,
    HOPELESS_UNITS,
    PLENTY,
    SCARCE,
    SHORT_FUNDING,
    Customer,
    OrderPlan,
    cancel,
)
from tests.faults.traffic import Planned
from tests.faults.workloads import FUNDING, deposit, new_id, open_account


@dataclass
class Shop:
    funded: list[Customer]
    short: list[Customer]
    orders: list[OrderPlan] = field(default_factory=list)

    @classmethod
    def new(cls, rng: random.Random, funded: int = 8, short: int = 3) -> Shop:
        def customers(count: int, funding: str) -> list[Customer]:
            return [Customer(new_id("cust"), new_id("pay"), funding) for _ in range(count)]

        shop = cls(customers(funded, FUNDING), customers(short, SHORT_FUNDING))
        shop.orders = plan_orders(rng, shop.funded, shop.short)
        return shop

    @property
    def customers(self) -> list[Customer]:
        return self.funded + self.short

    def accounts(self) -> list[Planned]:
        return [open_account(customer.account_id) for customer in self.customers]

    def funding(self) -> list[Planned]:
        return [deposit(c.account_id, c.funding) for c in self.customers]


def plan_orders(
    rng: random.Random, funded: list[Customer], short: list[Customer], cancels: int = 10
) -> list[OrderPlan]:
    """Sure orders, orders competing for scarce stock, hopeless ones, short customers' ones;
    ``cancels`` of the sure and competing ones are cancelled while their saga runs."""

    def order(customer: Customer, lines: dict[str, int], ends: set[str], *codes: str) -> OrderPlan:
        return OrderPlan(new_id("ord"), customer, lines, frozenset(ends), frozenset(codes))

    def plenty() -> dict[str, int]:
        skus = rng.sample(PLENTY, rng.randint(1, 2))
        return {sku: rng.choice([1, 2, 3, 4, 12]) for sku in skus}  # 12: a 5% discount

    sure = [order(rng.choice(funded), plenty(), {"confirmed"}) for _ in range(26)]
    competing = [
        order(
            rng.choice(funded),
            {rng.choice(SCARCE): rng.randint(1, 3), **(plenty() if rng.random() < 0.5 else {})},
            {"confirmed", "rejected"},
            "out_of_stock",
        )
        for _ in range(14)
    ]
    hopeless = [
        order(rng.choice(funded), {sku: HOPELESS_UNITS}, {"rejected"}, "out_of_stock")
        for sku in SCARCE * 2
    ]
    poor = [
        order(customer, {"PLENTY-A": rng.randint(1, 3)}, {"rejected"}, "insufficient_funds")
        for customer in short * 2
    ]
    for n, plan in enumerate(rng.sample(sure + competing, cancels)):
        plan.cancel_after = CANCEL_AFTER[n % len(CANCEL_AFTER)]
        if plan.cancel_after in ("placed", "reserve_stock"):
            plan.cancel, plan.ends = cancel(plan.order_id), plan.ends | {"cancelled"}
        else:  # the charge started: StartOrderCharge was applied
            plan.cancel = cancel(plan.order_id, "rejected:order_not_cancellable")
    orders = sure + competing + hopeless + poor
    rng.shuffle(orders)
    return orders
