"""``worker products``: read the current state of products and their stock."""

from __future__ import annotations

from typing import Any

import typer

from domain.catalog.product import SKU_PATTERN, validate_sku
from domain.shared.errors import InvalidValue
from worker.cli.common import fail, print_json, shown
from worker.cli.reading import read_database
from worker.contexts.catalog.availability import PRODUCT_AVAILABILITY, availability_of
from worker.contexts.catalog.views import read_products
from worker.readside.read_model import open_read_model

products_app = typer.Typer(help="Read products and their stock.", no_args_is_help=True)


async def _availability(sku: str | None) -> list[dict[str, Any]]:
    return await availability_of(await open_read_model(PRODUCT_AVAILABILITY), sku)


def _valid_sku(value: str) -> str:
    try:
        return validate_sku(value)
    except InvalidValue:  # its message repeats the whole value
        fail(f"invalid sku {shown(value)}: it must match {SKU_PATTERN}", 2)


def _any_sku(value: str | None) -> str | None:
    return None if value is None else _valid_sku(value)


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
    found = read_database(lambda: read_products(sku))
    if not found:
        fail(f"no product {sku!r}")
    print_json(found[0]) if as_json else typer.echo(_line(found[0]))


@products_app.command("list")
def list_products(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List all products and their stock."""
    found = read_database(lambda: read_products(None))
    if as_json:
        print_json(found)
    else:
        for product in found:
            typer.echo(_line(product))


AVAILABILITY_HEADER = (
    f"{'SKU':<20} {'ON HAND':>10} {'RESERVED':>10} {'AVAILABLE':>10}  {'STATUS':<12} CHANGED AT"
)


def _availability_line(product: dict[str, Any]) -> str:
    return (
        f"{product['sku']:<20} {product['on_hand']:>10} {product['reserved']:>10} "
        f"{product['available']:>10}  {product['status']:<12} {product['changed_at']}"
    )


@products_app.command("availability")
def availability(
    sku: str | None = typer.Option(None, "--sku", help="Only this product.", callback=_any_sku),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show what each product has on hand, reserved and available, as its events last
    told (the product_availability projection), ordered by sku. A reservation that ran
    out still counts until the product's next stock event; `products show` counts now."""
    found = read_database(lambda: _availability(sku))
    if as_json:
        print_json(found)
        return
    typer.echo(AVAILABILITY_HEADER)
    for product in found:
        typer.echo(_availability_line(product))
