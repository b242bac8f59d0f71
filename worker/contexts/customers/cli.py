"""``worker customers``: read the current state of customers, and their orders."""

from __future__ import annotations

from typing import Any

import typer

from worker.cli.common import fail, print_json, valid_id
from worker.cli.reading import read_database
from worker.contexts.customers.orders_view import customer_orders, orders_json, orders_table
from worker.contexts.customers.views import read_customers

customers_app = typer.Typer(help="Read customers and their orders.", no_args_is_help=True)


def _address(address: dict[str, Any]) -> str:
    lines = [address["line1"], address["line2"], f"{address['postal_code']} {address['city']}"]
    return ", ".join([line for line in lines if line] + [address["country"]])


def _line(customer: dict[str, Any]) -> str:
    return (
        f"{customer['customer_id']:<20} {customer['payment_account_id']:<20} "
        f"{customer['loyalty_points']:>6} pts  v{customer['version']}  "
        f"{customer['name']} <{customer['email']}>"
    )


def _details(customer: dict[str, Any]) -> list[str]:
    return [
        f"customer         {customer['customer_id']} (v{customer['version']})",
        f"name             {customer['name']}",
        f"email            {customer['email']}",
        f"payment account  {customer['payment_account_id']}",
        f"loyalty points   {customer['loyalty_points']}",
        f"billing address  {_address(customer['billing_address'])}",
        f"shipping address {_address(customer['shipping_address'])}",
        f"created          {customer['created_at']}",
        f"updated          {customer['updated_at']}",
    ]


@customers_app.command("show")
def show(
    customer_id: str = typer.Argument(..., metavar="CUSTOMER_ID", callback=valid_id("customer")),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one customer."""
    found = read_database(lambda: read_customers(customer_id))
    if not found:
        fail(f"customer {customer_id} does not exist")
    if as_json:
        print_json(found[0])
    else:
        typer.echo("\n".join(_details(found[0])))


@customers_app.command("list")
def list_customers(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List all customers."""
    found = read_database(lambda: read_customers(None))
    if as_json:
        print_json(found)
    else:
        for customer in found:
            typer.echo(_line(customer))


@customers_app.command("orders")
def orders(
    customer_id: str = typer.Argument(..., metavar="CUSTOMER_ID", callback=valid_id("customer")),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List a customer's orders, by order id: status, total, lines, when placed and ended.

    Read from the customer_orders projection, which follows the orders' events: an
    order shows once the worker has applied its events.
    """
    found = read_database(lambda: customer_orders(customer_id))
    if found is None:
        fail(f"customer {customer_id} does not exist")
    if as_json:
        print_json(orders_json(customer_id, found))
    else:
        typer.echo(orders_table(found))
