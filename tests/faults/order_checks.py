"""The orders scenario's invariants: each order ended as it could, stock and money conserved.

- Ends: an order rests in one of its planned states (``needs_operator`` is never
  planned), a rejection carries a planned code, an order ends ``cancelled`` if and
  only if its CancelOrder was accepted; its lines and total are as planned.
- Stock: for each product, initial stock + accepted restocks - the units of
  confirmed orders = on hand; each confirmed line was committed once, nothing else
  was; no ended order holds a reservation.
- Money: a confirmed order was charged its total once, on its payment account,
  and never refunded; a rejected or cancelled one has no net charge; the balances
  sum to the accepted funding minus the confirmed totals (minus what orders still
  at rest in ``needs_operator`` hold).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal

from tests.faults.money import DEPOSITED, WITHDRAWN, signed
from tests.faults.observe import Event, Snapshot
from tests.faults.order_facts import ENDED, ShopFacts
from tests.faults.orders import OrderPlan

#: ``order-<order id>/<step>/...``: the message id of an order saga step's command.
STEP_KEY = re.compile(r"^order-([^/]*)/([^/]*)/")
COMMITTED = "catalog.StockCommitted"
RETURNED = "catalog.StockReturned"
ENDINGS = ("orders.OrderConfirmed", "orders.OrderRejected", "orders.OrderCancelled")


def end_problems(
    plans: Iterable[OrderPlan], shop: ShopFacts, outcomes: dict[str, str]
) -> list[str]:
    """Orders at rest otherwise than planned (unexpected, not broken: the system may say so)."""
    problems = []
    for plan in plans:
        row = shop.orders.get(plan.order_id)
        if row is None or row.status in ("draft", "placed"):
            continue  # never created or placed (their commands' outcomes say), or running
        if row.status not in plan.ends:
            planned = "/".join(sorted(plan.ends))
            problems.append(f"order {plan.order_id} {row.status} ({row.reason}), planned {planned}")
        elif row.status == "rejected" and row.reason.split(":")[0] not in plan.refusals:
            problems.append(f"order {plan.order_id} rejected for {row.reason!r}")
        cancelled = outcomes.get(plan.cancel.ref) if plan.cancel else None
        if cancelled not in (None, "accepted", "lost", "rejected:order_not_cancellable"):
            problems.append(f"order {plan.order_id}: CancelOrder {cancelled}")
    return problems


def plan_problems(
    plans: Iterable[OrderPlan], shop: ShopFacts, outcomes: dict[str, str]
) -> list[str]:
    """Orders that are not as planned: lines, total, an accepted cancellation not honoured."""
    problems = []
    planned = {plan.order_id: plan for plan in plans}
    for order_id, row in shop.orders.items():
        plan = planned.get(order_id)
        if plan is None:
            problems.append(f"order {order_id}: no planned message asked for it")
            continue
        if row.status == "draft":
            continue
        if shop.lines.get(order_id) != plan.lines or row.total != plan.total:
            found = (shop.lines.get(order_id), row.total)
            problems.append(f"order {order_id} is {found}, planned {(plan.lines, plan.total)}")
        cancel = outcomes.get(plan.cancel.ref) if plan.cancel else None
        if row.status in ENDED and (cancel == "accepted") != (row.status == "cancelled"):
            problems.append(f"order {order_id} {row.status}, but its CancelOrder was {cancel}")
    return problems


def stock_problems(shop: ShopFacts, supplied: dict[str, int]) -> list[str]:
    """Stock conserved per product (``supplied``: initial stock plus restocks, accepted);
    committed once per confirmed line, and for a rejected or cancelled order never, or
    returned by its compensation; ended orders hold none. (An order still at rest in
    needs_operator may have committed.)"""
    committed: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
    returned: Counter[tuple[str, str]] = Counter()
    for event in shop.events:
        key = (str(event.payload.get("order_id")), event.aggregate_id)
        if event.type == COMMITTED:
            committed[key].append(int(event.payload["quantity"]))
        elif event.type == RETURNED:
            returned[key] += int(event.payload["quantity"])
    problems, taken = [], Counter[str]()  # units gone: confirmed lines, running commits
    for order_id, row in shop.orders.items():
        for sku, quantity in shop.lines.get(order_id, {}).items():
            got, back = committed.pop((order_id, sku), []), returned.pop((order_id, sku), 0)
            net = sum(got) - back
            if row.status == "confirmed":
                fine = got == [quantity] and not back
            elif row.status in ENDED:
                fine = net == 0
            else:
                fine = net in (0, quantity)
            if not fine:
                problems.append(
                    f"order {order_id} ({row.status}): {sku} committed {got}, returned {back}"
                )
            taken[sku] += net
    problems += [f"{n} of {sku} committed for {o}, not a line" for (o, sku), n in committed.items()]
    problems += [f"{n} of {sku} returned for {o}, not a line" for (o, sku), n in returned.items()]
    for sku in sorted(supplied.keys() | shop.on_hand.keys()):
        expected = supplied.get(sku, 0) - taken[sku]
        if shop.on_hand.get(sku) != expected:
            problems.append(
                f"stock {sku}: {shop.on_hand.get(sku)} on hand, but "
                f"{supplied.get(sku, 0)} supplied - {taken[sku]} sold = {expected}"
            )
    for (order_id, sku), units in shop.held.items():
        status = shop.orders[order_id].status if order_id in shop.orders else "missing"
        if status in ENDED | {"missing"}:
            problems.append(f"order {order_id} ({status}) still holds {units} of {sku}")
    return problems


def order_money(snapshot: Snapshot) -> dict[str, list[tuple[str, Event]]]:
    """Money events caused by order saga steps, by order id: (step, event)."""
    found: defaultdict[str, list[tuple[str, Event]]] = defaultdict(list)
    for event in snapshot.events:
        match = STEP_KEY.match(event.causation_id or "")
        if match is not None and event.type in (DEPOSITED, WITHDRAWN):
            found[match[1]].append((match[2], event))
    return found


def charge_problems(shop: ShopFacts, snapshot: Snapshot) -> tuple[list[str], Decimal]:
    """Each order's charges and refunds against where it stands; what running orders hold."""
    problems, held = [], Decimal(0)
    moved = order_money(snapshot)
    for order_id in sorted(moved.keys() - shop.orders.keys()):
        problems.append(f"money moved for {order_id}, an order that does not exist")
    for order_id, row in shop.orders.items():
        steps = moved.get(order_id, [])
        charged = [e.amount for step, e in steps if step == "charge" and e.type == WITHDRAWN]
        refunded = [
            e.amount for step, e in steps if step == "refund_charge" and e.type == DEPOSITED
        ]
        net = -sum((signed(e) for _, e in steps), Decimal(0))
        if len(charged) + len(refunded) != len(steps):
            problems.append(f"order {order_id}: money moved by other steps {[s for s, _ in steps]}")
        if {e.aggregate_id for _, e in steps} - {row.account_id}:
            problems.append(f"order {order_id}: money moved off its account {row.account_id}")
        if row.status == "confirmed" and (charged != [row.total] or refunded):
            problems.append(f"order {order_id} confirmed: charged {charged}, refunded {refunded}")
        elif row.status in ("rejected", "cancelled") and (net != 0 or len(charged) > 1):
            problems.append(
                f"order {order_id} {row.status}: charged {charged}, refunded {refunded}"
            )
        elif row.status not in ENDED:
            if net not in (0, row.total):
                problems.append(f"order {order_id} {row.status}: {net} charged net")
            held += net
    return problems, held


def total_problems(
    snapshot: Snapshot, funded: Decimal, shop: ShopFacts, held: Decimal
) -> list[str]:
    balances = sum((balance for balance, _ in snapshot.balances.values()), Decimal(0))
    confirmed = [row.total or 0 for row in shop.orders.values() if row.status == "confirmed"]
    sold = sum(confirmed, Decimal(0))
    if balances == funded - sold - held:
        return []
    return [
        f"money: balances sum to {balances}, but funding {funded} - {len(confirmed)} confirmed "
        f"orders' {sold} - {held} held by running orders = {funded - sold - held}"
    ]


def ended_twice(shop: ShopFacts) -> list[str]:
    ends = Counter(e.aggregate_id for e in shop.events if e.type in ENDINGS)
    placed = Counter(e.aggregate_id for e in shop.events if e.type == "orders.OrderPlaced")
    return [f"order {o} ended x{n}" for o, n in ends.items() if n > 1] + [
        f"order {o} placed x{n}" for o, n in placed.items() if n > 1
    ]
