"""Customers: register a customer, with addresses and the account that pays for their orders;
follow their orders, and award loyalty points for the confirmed ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.customers import events
from worker.context import BoundedContext
from worker.contexts.customers.handlers import HANDLERS
from worker.contexts.customers.loyalty import AWARD_LOYALTY_POINTS
from worker.contexts.customers.orders_projection import CUSTOMER_ORDERS
from worker.contexts.customers.persistence import CUSTOMERS
from worker.contexts.customers.published import CustomerDirectory
from worker.contexts.customers.resources import RESOURCES

if TYPE_CHECKING:
    import typer


def _cli() -> typer.Typer:
    """Imported on demand: the worker itself never needs its CLI."""
    from worker.contexts.customers.cli import customers_app

    return customers_app


CONTEXT = BoundedContext(
    name="customers",
    handlers=HANDLERS,
    aggregates=(CUSTOMERS,),
    events=(events.CustomerRegistered, events.LoyaltyPointsAwarded),
    models="worker.contexts.customers.persistence",
    migrations="worker.contexts.customers.migrations",
    read_ports={CustomerDirectory: CustomerDirectory},
    cli=_cli,
    subscriptions=(CUSTOMER_ORDERS, AWARD_LOYALTY_POINTS),
    resources=RESOURCES,
)
