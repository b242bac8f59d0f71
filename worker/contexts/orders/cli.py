"""``worker orders``: read the current state of orders, their lines and prices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from domain.orders.order import Order, OrderStatus
from worker.cli.common import (
    fail,
    load_settings,
    open_database,
    print_json,
    run_async,
    shown,
    valid_id,
)
from worker.cli.errors import DATABASE_ERRORS, MIGRATE_HINT, database_failure
from worker.config import Settings
from worker.contexts.orders.views import order_json, read_orders
from worker.persistence import database

orders_app = typer.Typer(help="Read orders.", no_args_is_help=True)

STATUSES = tuple(status.value for status in OrderStatus)


async def _query(settings: Settings, order_id: str | None, status: str | None) -> list[Order]:
    try:
        await open_database(settings)
        return await read_orders(order_id, status)
    finally:
        await database.close()


def _read(order_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """The orders (all, those in ``status``, or the one), or one line saying why the
    database cannot tell."""
    settings = load_settings()
    path = settings.sqlite_path
    # Reading never creates the file (nor its directory), as connecting would.
    if path is not None and path != ":memory:" and not Path(path).exists():
        fail(f"the database file {path} does not exist: {MIGRATE_HINT}")
    try:
        return [order_json(order) for order in run_async(_query(settings, order_id, status))]
    except DATABASE_ERRORS as error:
        raise database_failure(error, settings.database_url) from error


def _known_status(status: str | None) -> str | None:
    if status is not None and status not in STATUSES:
        fail(f"unknown order status {shown(status)}; known: {', '.join(STATUSES)}", 2)
    return status


def _total(order: dict[str, Any]) -> str:
    return "-" if order["total"] is None else f"{order['total']} {order['currency']}"


def _line(order: dict[str, Any]) -> str:
    return (
        f"{order['order_id']:<20} {order['status']:<14} {_total(order):>18}  "
        f"{len(order['lines'])} lines  v{order['version']}  {order['customer_id']}"
    )


def _while_placed(order: dict[str, Any]) -> str:
    """Where a placed order's saga stands; past that, the status says it all."""
    if order["status"] != "placed":
        return ""
    if order["cancel_requested"]:
        return " (cancellation requested)"
    return " (charging)" if order["charging"] else ""


def _details(order: dict[str, Any]) -> list[str]:
    width = max((len(line["sku"]) for line in order["lines"]), default=0)
    text = [
        f"order     {order['order_id']} (v{order['version']})",
        f"status    {order['status']}{_while_placed(order)}",
        f"customer  {order['customer_id']} (pays from {order['payment_account_id']})",
        f"currency  {order['currency']}",
    ]
    for line in order["lines"]:
        text.append(
            f"  {line['sku']:<{width}} {line['quantity']:>5} x {line['unit_price']:>12}"
            f"  discount {line['discount']:>12}  subtotal {line['subtotal']:>14}"
        )
    text.append(f"total     {_total(order)}")
    if order["reason"]:
        text.append(f"reason    {order['reason']}")
    text += [f"created   {order['created_at']}", f"updated   {order['updated_at']}"]
    return text


@orders_app.command("show")
def show(
    order_id: str = typer.Argument(..., metavar="ORDER_ID", callback=valid_id("order")),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one order: its lines, prices, discounts, total, status and reason."""
    found = _read(order_id)
    if not found:
        fail(f"order {order_id} does not exist")
    if as_json:
        print_json(found[0])
    else:
        typer.echo("\n".join(_details(found[0])))


@orders_app.command("list")
def list_orders(
    status: str | None = typer.Option(
        None,
        "--status",
        help=f"Only orders in this status: {', '.join(STATUSES)}.",
        callback=_known_status,
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List orders (every one, or those in one status)."""
    found = _read(status=status)
    if as_json:
        print_json(found)
    else:
        for order in found:
            typer.echo(_line(order))
