"""The orders scenario's shop: customers, products and orders whose possible ends are known.

Most customers are funded far beyond what they order; a few hold less than any
order of theirs costs, so the charge is refused (``insufficient_funds``). Two
products are plentiful, two scarce: orders for scarce stock compete, and some
are refused ``out_of_stock``, whatever order the sagas run in; an order for more
than there ever is always is. Some orders are cancelled while their saga runs,
once it reached a step: right after the placement or the reservation the
cancellation races the charge (the order ends ``cancelled``, or as it would have
if the charge won); once the charge started it is refused, not cancellable.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.orders.pricing import Pricing
from domain.shared.money import Money
from tests.faults.traffic import Planned, command

CURRENCY = "EUR"
#: What a short customer holds: less than the cheapest order of theirs costs.
SHORT_FUNDING = "5.00"
#: More units than a scarce product will ever have on hand.
HOPELESS_UNITS = 60


@dataclass(frozen=True)
class Product:
    sku: str
    price: str
    stock: int


PRODUCTS = (
    Product("PLENTY-A", "12.50", 1000),
    Product("PLENTY-B", "3.20", 1000),
    Product("SCARCE-C", "40.00", 6),
    Product("SCARCE-D", "99.99", 4),
)
PRICES = {product.sku: product.price for product in PRODUCTS}
PLENTY, SCARCE = ["PLENTY-A", "PLENTY-B"], ["SCARCE-C", "SCARCE-D"]
#: What a CancelOrder waits for: the first three race the charge, the last two come too late.
CANCEL_AFTER = ("placed", "placed", "reserve_stock", "start_charge", "charge")
#: Restocks sent while the orders run.
RESTOCKS = (("SCARCE-C", 3), ("SCARCE-D", 2))


@dataclass(frozen=True)
class Customer:
    customer_id: str
    account_id: str
    funding: str


@dataclass
class OrderPlan:
    """One order: its lines, the states it may end in, and the codes a rejection may give."""

    order_id: str
    customer: Customer
    lines: dict[str, int]
    ends: frozenset[str]
    refusals: frozenset[str] = frozenset()
    #: The CancelOrder sent while its saga runs (None: never cancelled), and what it
    #: waits for: the placement, or a step of the saga applied (CANCEL_AFTER).
    cancel: Planned | None = None
    cancel_after: str = ""

    @property
    def total(self) -> Decimal:
        priced = [
            Pricing().price_line(Money.of(PRICES[sku], CURRENCY), quantity)
            for sku, quantity in self.lines.items()
        ]
        return sum((line.subtotal.amount for line in priced), Decimal(0))


def register(customer: Customer) -> Planned:
    address = {"line1": "1 Main Street", "city": "Berlin", "postal_code": "10115", "country": "DE"}
    fields = {
        "customer_id": customer.customer_id,
        "name": f"Customer {customer.customer_id}",
        "email": f"{customer.customer_id}@example.com",
        "billing_address": address,
        "payment_account_id": customer.account_id,
    }
    return command("RegisterCustomer", fields)


def add_product(product: Product) -> Planned:
    fields = {
        "sku": product.sku,
        "name": f"Product {product.sku}",
        "price": product.price,
        "currency": CURRENCY,
        "stock": product.stock,
    }
    return command("AddProduct", fields)


def restock(sku: str, quantity: int) -> Planned:
    return command("Restock", {"sku": sku, "quantity": quantity})


def create(order: OrderPlan) -> Planned:
    return command(
        "CreateOrder", {"order_id": order.order_id, "customer_id": order.customer.customer_id}
    )


def add_lines(order: OrderPlan) -> list[Planned]:
    return [
        command("AddLineItem", {"order_id": order.order_id, "sku": sku, "quantity": quantity})
        for sku, quantity in order.lines.items()
    ]


def place(order: OrderPlan) -> Planned:
    return command("PlaceOrder", {"order_id": order.order_id})


def cancel(order_id: str, expect: str | None = None) -> Planned:
    """Accepted while the order's charge has not started, refused (not cancellable) after."""
    return command("CancelOrder", {"order_id": order_id, "reason": "changed my mind"}, expect)
