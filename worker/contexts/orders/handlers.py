"""The orders context's command handlers: load one order, call it, done.

What an order needs of other contexts (who pays, in which currency, at what price)
comes through their read ports, inside this unit of work's transaction.
Handlers raise domain errors; they never commit. The bus commits the unit of work.
"""

from __future__ import annotations

from domain.orders.errors import (
    OrderAlreadyExists,
    OrderNotFound,
    ProductUnavailable,
    UnknownCustomer,
    UnknownPaymentAccount,
    UnknownProduct,
)
from domain.orders.order import Order
from domain.orders.pricing import Pricing
from domain.shared.money import Money
from domain.shared.ports import Repository
from worker.bus.commands import Command
from worker.bus.messagebus import Handler
from worker.bus.unit_of_work import UnitOfWork
from worker.contexts.accounts.published import AccountDirectory
from worker.contexts.catalog.published import ProductCatalog
from worker.contexts.customers.published import CustomerDirectory
from worker.contexts.orders import commands

#: The catalog's word for a product that is no longer sold.
DISCONTINUED = "discontinued"


def orders(uow: UnitOfWork) -> Repository[Order]:
    return uow.repository(Order)


async def _load(uow: UnitOfWork, order_id: str) -> Order:
    order = await orders(uow).get(order_id)
    if order is None:
        raise OrderNotFound(f"order {order_id} does not exist")
    return order


async def create_order(cmd: commands.CreateOrder, uow: UnitOfWork) -> None:
    """A draft in the currency of the account the customer pays with."""
    if await orders(uow).get(cmd.order_id) is not None:
        raise OrderAlreadyExists(f"order {cmd.order_id} already exists")
    account_id = await uow.read_port(CustomerDirectory).payment_account_of(cmd.customer_id)
    if account_id is None:
        raise UnknownCustomer(f"customer {cmd.customer_id} does not exist")
    currency = await uow.read_port(AccountDirectory).currency_of(account_id)
    if currency is None:
        raise UnknownPaymentAccount(
            f"account {account_id}, which customer {cmd.customer_id} pays with, does not exist"
        )
    orders(uow).add(Order.create(cmd.order_id, cmd.customer_id, account_id, currency))


async def add_line_item(cmd: commands.AddLineItem, uow: UnitOfWork) -> None:
    """At the catalog's current price: a later price change leaves the line as it is."""
    order = await _load(uow, cmd.order_id)
    product = await uow.read_port(ProductCatalog).product(cmd.sku)
    if product is None:
        raise UnknownProduct(f"product {cmd.sku} does not exist")
    if product.status == DISCONTINUED:
        raise ProductUnavailable(f"product {cmd.sku} is discontinued")
    order.add_line(cmd.sku, cmd.quantity, Money.of(product.price, product.currency))


async def update_line_item(cmd: commands.UpdateLineItem, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.order_id)).update_line(cmd.sku, cmd.quantity)


async def remove_line_item(cmd: commands.RemoveLineItem, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.order_id)).remove_line(cmd.sku)


async def place_order(cmd: commands.PlaceOrder, uow: UnitOfWork) -> None:
    """Prices the lines; the OrderPlaced event starts the order saga (from the outbox)."""
    (await _load(uow, cmd.order_id)).place(Pricing())


async def cancel_order(cmd: commands.CancelOrder, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.order_id)).cancel(cmd.reason)


async def start_order_charge(cmd: commands.StartOrderCharge, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.order_id)).start_charge()


async def record_order_outcome(cmd: commands.RecordOrderOutcome, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.order_id)).end(cmd.state, cmd.reason)


HANDLERS: dict[type[Command], Handler] = {
    commands.CreateOrder: create_order,
    commands.AddLineItem: add_line_item,
    commands.UpdateLineItem: update_line_item,
    commands.RemoveLineItem: remove_line_item,
    commands.PlaceOrder: place_order,
    commands.CancelOrder: cancel_order,
    commands.StartOrderCharge: start_order_charge,
    commands.RecordOrderOutcome: record_order_outcome,
}
