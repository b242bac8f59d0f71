"""Catalog: add products, restock, reprice and discontinue them; hold stock for orders;
each product's availability (the ``product_availability`` projection).

``ReserveStock``, ``ReleaseStock``, ``CommitStock`` and ``ReturnStock`` are the order
saga's own: internal commands, never read from AMQP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.catalog import events
from worker.context import BoundedContext
from worker.contexts.catalog.availability import PRODUCT_AVAILABILITY
from worker.contexts.catalog.checks import CATALOG_CHECK
from worker.contexts.catalog.handlers import HANDLERS
from worker.contexts.catalog.persistence import PRODUCTS
from worker.contexts.catalog.published import ProductCatalog
from worker.contexts.catalog.resources import RESOURCES
from worker.contexts.catalog.settings import CatalogSettings

if TYPE_CHECKING:
    import typer


def _cli() -> typer.Typer:
    """Imported on demand: the worker itself never needs its CLI."""
    from worker.contexts.catalog.cli import products_app

    return products_app


CONTEXT = BoundedContext(
    name="catalog",
    handlers=HANDLERS,
    aggregates=(PRODUCTS,),
    events=(
        events.ProductAdded,
        events.ProductRestocked,
        events.ProductPriceChanged,
        events.ProductDiscontinued,
        events.StockReserved,
        events.StockReleased,
        events.StockCommitted,
        events.StockReturned,
    ),
    models="worker.contexts.catalog.persistence",
    migrations="worker.contexts.catalog.migrations",
    read_ports={ProductCatalog: ProductCatalog},
    checks=(CATALOG_CHECK,),
    cli=_cli,
    cli_name="products",
    settings=CatalogSettings,
    subscriptions=(PRODUCT_AVAILABILITY,),
    resources=RESOURCES,
)
