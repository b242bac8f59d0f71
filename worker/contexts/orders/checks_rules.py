"""The orders' reconciliation rules, over plain facts: what each order was charged, and
the stock it still holds, agree with where the order stands.

A confirmed order was charged exactly its total, once, and never refunded; a
rejected, cancelled or conflicted one has no net charge; one still running has
been charged nothing or its total. No order that has ended holds stock. Together
with the money check (every balance is its event record, and the balances add up
to what came in and went out), money is conserved across accounts, transfers and
orders: what left the accounts for orders is what the confirmed orders cost.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from worker.contexts.accounts.published import DEPOSITED, WITHDRAWN, EventFacts
from worker.ops.check.engine import CheckResult
from worker.ops.check.facts import Violation, amount_text, money_text

#: ``order-<order id>/<step>/...``: the message id of an order saga step's command.
_STEP_KEY = re.compile(r"^order-([^/]*)/([^/]*)/")
CHARGE, REFUND = "charge", "refund_charge"
#: Nothing may still be held by these, and no money may have stayed with them.
UNCHARGED = frozenset({"rejected", "cancelled", "conflicted", "draft"})
RUNNING = frozenset({"placed", "needs_operator"})


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    payment_account_id: str
    currency: str
    status: str
    total: Decimal | None


@dataclass(frozen=True)
class Holding:
    """An unexpired reservation: stock an order holds."""

    sku: str
    order_id: str
    quantity: int


@dataclass
class Charges:
    charged: list[Decimal] = field(default_factory=list)
    refunded: list[Decimal] = field(default_factory=list)
    accounts: set[str] = field(default_factory=set)

    @property
    def net(self) -> Decimal:
        return sum(self.charged, Decimal(0)) - sum(self.refunded, Decimal(0))


def charges_by_order(events: Iterable[EventFacts]) -> dict[str, Charges]:
    """The money each order's saga moved, from the accounts' event record."""
    found: defaultdict[str, Charges] = defaultdict(Charges)
    for event in events:
        match = _STEP_KEY.match(event.causation_id or "")
        if match is None or event.amount is None:
            continue
        order_id, step = match[1], match[2]
        if step == CHARGE and event.event_type == WITHDRAWN:
            found[order_id].charged.append(event.amount)
        elif step == REFUND and event.event_type == DEPOSITED:
            found[order_id].refunded.append(event.amount)
        else:
            continue
        found[order_id].accounts.add(event.account_id)
    return dict(found)


def charge_problem(order: OrderFacts, charges: Charges) -> str | None:
    total = order.total or Decimal(0)
    shown = money_text(total, order.currency)
    moved = (
        f"charged {money_text(sum(charges.charged, Decimal(0)), order.currency)} in "
        f"{len(charges.charged)} charge(s), refunded "
        f"{money_text(sum(charges.refunded, Decimal(0)), order.currency)}"
    )
    if charges.accounts - {order.payment_account_id}:
        others = ", ".join(sorted(charges.accounts - {order.payment_account_id}))
        return f"money moved on {others}, not on its payment account {order.payment_account_id}"
    if order.status == "confirmed" and (charges.charged != [total] or charges.refunded):
        return f"{moved}; a confirmed order is charged its total ({shown}) exactly once"
    if order.status in UNCHARGED and charges.net != 0:
        return f"{moved}; a {order.status} order keeps no money"
    if order.status in RUNNING and charges.net not in (Decimal(0), total):
        return f"{moved}; a running order is charged nothing or its total ({shown})"
    return None


@dataclass
class OrdersReport:
    violations: list[Violation] = field(default_factory=list)
    by_status: Counter[str] = field(default_factory=Counter)
    not_verifiable: int = 0
    #: By currency: what the orders' sagas took from the accounts, net of refunds.
    charged: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def result(self) -> CheckResult:
        figures: dict[str, Any] = {
            "orders_checked": sum(self.by_status.values()),
            "orders_not_verifiable": self.not_verifiable,
            "by_status": dict(sorted(self.by_status.items())),
            "charged": {c: amount_text(a, c) for c, a in sorted(self.charged.items())},
        }
        charged = ", ".join(money_text(a, c) for c, a in sorted(self.charged.items())) or "0"
        summary = (
            f"orders: {figures['orders_checked']} checked, {self.not_verifiable} not verifiable "
            f"(history swept); charged net: {charged}"
        )
        return CheckResult(self.violations, {"orders": figures}, summary)


def check_orders(
    orders: Iterable[OrderFacts],
    events: Iterable[EventFacts],
    verified_accounts: set[str],
    held: Iterable[Holding],
) -> OrdersReport:
    """Every order rule over one snapshot (see the module's docstring)."""
    report = OrdersReport()
    known = {order.order_id: order for order in orders}
    charges = charges_by_order(events)
    for order in known.values():
        report.by_status[order.status] += 1
        if order.payment_account_id not in verified_accounts:
            report.not_verifiable += 1
            continue
        moved = charges.get(order.order_id, Charges())
        report.charged[order.currency] += moved.net
        problem = None if order.status == "resolved" else charge_problem(order, moved)
        if problem is not None:
            report.violations.append(Violation("order_charge", order.order_id, problem))
    for order_id in sorted(set(charges) - set(known)):
        net = charges[order_id].net
        detail = f"{net:f} moved by the saga of an order that does not exist"
        report.violations.append(Violation("order_charge", order_id, detail))
    for stock in held:
        holder = known.get(stock.order_id)
        # A resolved order was settled by hand; what it holds lapses with its hold.
        if holder is None or holder.status in UNCHARGED | {"confirmed"}:
            stands = "does not exist" if holder is None else f"is {holder.status}"
            detail = f"holds {stock.quantity} of {stock.sku}, but the order {stands}"
            report.violations.append(Violation("stock_held", stock.order_id, detail))
    return report
