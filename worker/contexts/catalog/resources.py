"""What the catalog serves over HTTP: its products as ``products list --json`` and
``products show --json`` print them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from worker.contexts.catalog.views import read_products
from worker.web.resources import Resource


async def _products(path: Mapping[str, str]) -> list[dict[str, Any]]:
    return await read_products(None)


async def _product(path: Mapping[str, str]) -> dict[str, Any] | None:
    found = await read_products(path["sku"])
    return found[0] if found else None


RESOURCES = (
    Resource("/products", _products, "Every product: price, stock and what is held."),
    Resource("/products/{sku}", _product, "One product: price, stock and what is held."),
)
