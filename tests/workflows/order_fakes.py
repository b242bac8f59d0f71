"""An in-memory shop behind an idempotent inbox: the bus as the order saga sees it.

Stock with reservations that can lapse, accounts, and orders that decide the
race between their saga's charge and a cancellation, like the catalog, accounts
and orders contexts do. Its faults, refusals and inbox are those of ``fakes.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.workflows.fakes import ACCEPTED, Fault, Inbox, refusal
from workflows.saga.types import DispatchResult


@dataclass
class Hold:
    quantity: int
    #: Expired: it keeps its place until the order's reservation is next touched.
    lapsed: bool = False


@dataclass
class Product:
    on_hand: int
    holds: dict[str, Hold] = field(default_factory=dict)

    def available(self, order_id: str) -> int:
        """What ``order_id`` may reserve: its own unexpired hold counts as available to it."""
        others = (h for o, h in self.holds.items() if not h.lapsed and o != order_id)
        return self.on_hand - sum(h.quantity for h in others)


@dataclass
class Order:
    status: str = "placed"
    charging: bool = False
    cancel_reason: str | None = None
    reason: str = ""

    def end(self, state: str, reason: str) -> None:
        """What ``Order.end`` makes of the saga's state."""
        if state in ("rejected", "compensated"):
            cancelled = self.cancel_reason is not None
            self.status = "cancelled" if cancelled else "rejected"
            self.reason = self.cancel_reason if self.cancel_reason is not None else reason
        else:
            self.status = {"completed": "confirmed"}.get(state, state)
            self.reason = reason


@dataclass
class Shop(Inbox):
    products: dict[str, Product]
    balances: dict[str, Decimal]
    frozen: set[str] = field(default_factory=set)
    orders: dict[str, Order] = field(default_factory=dict)
    inbox: dict[str, DispatchResult] = field(default_factory=dict)
    #: (command, subject, message_id) of every call, failed ones too.
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    #: (order_id, state, reason) of every RecordOrderOutcome applied.
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)
    #: Every quantity field as it came: the saga sends JSON integers.
    quantities: list[Any] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    gate_reached: dict[str, asyncio.Event] = field(default_factory=dict)
    #: command -> what happens in the shop right after it is applied.
    after: dict[str, Callable[[], None]] = field(default_factory=dict)

    @classmethod
    def with_stock(cls, balance: str = "100.00", **stock: int) -> Shop:
        products = {sku.replace("_", "-"): Product(on_hand) for sku, on_hand in stock.items()}
        return cls(products=products, balances={"acc-c1": Decimal(balance)})

    # --- switches ----------------------------------------------------------------------

    def fail(self, command: str, subject: str | None = None, **how: Any) -> Fault:
        fault = Fault(command, subject, **how)
        self.faults.append(fault)
        return fault

    def gate(self, command: str) -> asyncio.Event:
        """Hold ``command`` until the returned event is set."""
        self.gates[command], self.gate_reached[command] = asyncio.Event(), asyncio.Event()
        return self.gates[command]

    def order(self, order_id: str) -> Order:
        return self.orders.setdefault(order_id, Order())

    def lapse(self, order_id: str) -> None:
        """Let every hold of ``order_id`` expire (it keeps its place, but counts no more)."""
        for product in self.products.values():
            if order_id in product.holds:
                product.holds[order_id].lapsed = True

    # --- what tests look at ------------------------------------------------------------

    def held(self, sku: str) -> dict[str, int]:
        holds = self.products[sku].holds.items()
        return {order: hold.quantity for order, hold in holds if not hold.lapsed}

    def on_hand(self) -> dict[str, int]:
        return {sku: product.on_hand for sku, product in self.products.items()}

    # --- CommandDispatcher -------------------------------------------------------------

    async def dispatch(
        self, command: str, fields: dict[str, Any], message_id: str, correlation_id: str | None
    ) -> DispatchResult:
        subject = fields.get("sku") or fields.get("account_id") or fields["order_id"]
        self.calls.append((command, subject, message_id))
        if command in self.gates:
            self.gate_reached[command].set()
            await self.gates[command].wait()
        fault = next((f for f in self.faults if f.matches(command, subject)), None)
        if fault is not None and not fault.after_apply:
            fault.fire(message_id)
        if message_id not in self.inbox:
            self.inbox[message_id] = self._apply(command, fields)
            if command in self.after:
                self.after[command]()
        if fault is not None:
            fault.fire(message_id)
        return self.inbox[message_id]

    # --- the "domain" ------------------------------------------------------------------

    def _apply(self, command: str, fields: dict[str, Any]) -> DispatchResult:
        if "quantity" in fields:
            self.quantities.append(fields["quantity"])
        if command in ("ReserveStock", "ReleaseStock", "CommitStock", "ReturnStock"):
            return self._stock(command, self.products[fields["sku"]], fields)
        if command in ("Withdraw", "Deposit"):
            return self._money(command, fields["account_id"], Decimal(fields["amount"]))
        order = self.order(fields["order_id"])
        if command == "CancelOrder":  # a client's: the charge mark decides the race
            if order.charging or order.cancel_reason is not None or order.status != "placed":
                return refusal("order_not_cancellable", f"order {fields['order_id']}")
            order.cancel_reason = fields["reason"]
        elif command == "StartOrderCharge":
            if order.cancel_reason is not None:
                return refusal("order_cancelled", f"order {fields['order_id']} was cancelled")
            order.charging = True
        elif command == "RecordOrderOutcome":
            self.outcomes.append((fields["order_id"], fields["state"], fields["reason"]))
            order.end(fields["state"], fields["reason"])
        return ACCEPTED

    def _stock(self, command: str, product: Product, fields: dict[str, Any]) -> DispatchResult:
        order_id, quantity = fields["order_id"], fields.get("quantity", 0)
        if command == "ReleaseStock":
            product.holds.pop(order_id, None)
            return ACCEPTED
        if command == "ReturnStock":
            product.on_hand += quantity
            return ACCEPTED
        hold = product.holds.get(order_id)
        if command == "CommitStock" and hold is not None and not hold.lapsed:
            product.on_hand -= hold.quantity
        elif product.available(order_id) < quantity:
            code = "out_of_stock" if command == "ReserveStock" else "reservation_expired"
            return refusal(code, f"{fields['sku']}: {product.available(order_id)} < {quantity}")
        elif command == "CommitStock":
            product.on_hand -= quantity
        else:
            product.holds[order_id] = Hold(quantity)
            return ACCEPTED
        product.holds.pop(order_id, None)
        return ACCEPTED

    def _money(self, command: str, account: str, amount: Decimal) -> DispatchResult:
        if account in self.frozen:
            return refusal("account_frozen", f"account {account} is frozen")
        if command == "Withdraw":
            if self.balances[account] < amount:
                return refusal("insufficient_funds", f"{self.balances[account]} < {amount}")
            amount = -amount
        self.balances[account] += amount
        return ACCEPTED
