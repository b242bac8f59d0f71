"""``worker products``: read the current state of products and their stock."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from domain.catalog.product import SKU_PATTERN, validate_sku
from domain.shared.errors import InvalidValue
from worker.cli.common import fail, load_settings, open_database, print_json, run_async, shown
from worker.cli.errors import DATABASE_ERRORS, MIGRATE_HINT, database_failure
from worker.config import Settings
from worker.contexts.catalog.persistence import ProductRow, ReservationRow, product_to_domain
from worker.persistence import database

products_app = typer.Typer(help="Read products and their stock.", no_args_is_help=True)


def product_json(row: ProductRow, held: list[ReservationRow], now: datetime) -> dict[str, Any]:
    product = product_to_domain(row, {ReservationRow: held})
    return {
        "sku": product.sku,
        "name": product.name,
        "price": product.price.to_string(),
        "currency": str(product.currency),
        "status": product.status.value,
        "on_hand": product.on_hand,
        "reserved": product.reserved(now),
        "available": product.available(now),
        "version": product.version,
    }


async def _query(settings: Settings, sku: str | None) -> list[dict[str, Any]]:
    try:
        await open_database(settings)
        rows = ProductRow.all() if sku is None else ProductRow.filter(id=sku)
        held = ReservationRow.all() if sku is None else ReservationRow.filter(sku=sku)
        by_sku: defaultdict[str, list[ReservationRow]] = defaultdict(list)
        for reservation in await held.order_by("order_id"):
            by_sku[reservation.sku].append(reservation)
        now = datetime.now(UTC)
        return [product_json(row, by_sku[row.id], now) for row in await rows.order_by("id")]
    finally:
        await database.close()


def _read(sku: str | None) -> list[dict[str, Any]]:
    """The products (all, or the one), or one line saying why the database cannot tell."""
    settings = load_settings()
    path = settings.sqlite_path
    # Reading never creates the file (nor its directory), as connecting would.
    if path is not None and path != ":memory:" and not Path(path).exists():
        fail(f"the database file {path} does not exist: {MIGRATE_HINT}")
    try:
        return run_async(_query(settings, sku))
    except DATABASE_ERRORS as error:
        raise database_failure(error, settings.database_url) from error


def _valid_sku(value: str) -> str:
    try:
        return validate_sku(value)
    except InvalidValue:  # its message repeats the whole value
        fail(f"invalid sku {shown(value)}: it must match {SKU_PATTERN}", 2)


def _line(product: dict[str, Any]) -> str:
    return (
        f"{product['sku']:<20} {product['price']:>14} {product['currency']}  "
        f"{product['status']:<12} on hand {product['on_hand']}, reserved "
        f"{product['reserved']}, available {product['available']}  "
        f"v{product['version']}  {product['name']}"
    )


@products_app.command("show")
def show(
    sku: str = typer.Argument(..., metavar="SKU", callback=_valid_sku),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one product and its stock."""
    found = _read(sku)
    if not found:
        fail(f"no product {sku!r}")
    print_json(found[0]) if as_json else typer.echo(_line(found[0]))


@products_app.command("list")
def list_products(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List all products and their stock."""
    found = _read(None)
    if as_json:
        print_json(found)
    else:
        for product in found:
            typer.echo(_line(product))
