"""The customers context's handlers; the payment account is read through the accounts' port.

Handlers raise domain errors; they never commit. The bus commits the unit of work.
"""

from __future__ import annotations

from domain.customers.customer import Customer, Email
from domain.customers.errors import (
    CustomerAlreadyExists,
    CustomerNotFound,
    PaymentAccountNotFound,
)
from domain.shared.ports import Repository
from worker.bus.commands import Command
from worker.bus.messagebus import Handler
from worker.bus.unit_of_work import UnitOfWork
from worker.contexts.accounts.published import AccountDirectory
from worker.contexts.customers import commands


def customers(uow: UnitOfWork) -> Repository[Customer]:
    return uow.repository(Customer)


async def register_customer(cmd: commands.RegisterCustomer, uow: UnitOfWork) -> None:
    if await customers(uow).get(cmd.customer_id) is not None:
        raise CustomerAlreadyExists(f"customer {cmd.customer_id} already exists")
    if await uow.read_port(AccountDirectory).currency_of(cmd.payment_account_id) is None:
        raise PaymentAccountNotFound(f"account {cmd.payment_account_id} does not exist")
    shipping = cmd.shipping_address
    customer = Customer.register(
        cmd.customer_id,
        cmd.customer_name,
        Email(cmd.email),
        cmd.billing_address.to_domain(),
        None if shipping is None else shipping.to_domain(),
        cmd.payment_account_id,
    )
    customers(uow).add(customer)


async def award_loyalty_points(cmd: commands.AwardLoyaltyPoints, uow: UnitOfWork) -> None:
    customer = await customers(uow).get(cmd.customer_id)
    if customer is None:
        raise CustomerNotFound(f"customer {cmd.customer_id} does not exist")
    customer.award_loyalty_points(cmd.order_id, cmd.points)


HANDLERS: dict[type[Command], Handler] = {
    commands.RegisterCustomer: register_customer,
    commands.AwardLoyaltyPoints: award_loyalty_points,
}
