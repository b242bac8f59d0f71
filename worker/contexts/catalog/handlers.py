"""The catalog context's command handlers: load one product, call it, done.

Handlers raise domain errors; they never commit. The bus commits the unit of work.
The clock is read here, once per command: the domain takes the time as an argument.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.catalog.errors import ProductAlreadyExists, ProductNotFound
from domain.catalog.product import Product
from domain.shared.ports import Repository
from worker.bus.commands import Command
from worker.bus.messagebus import Handler
from worker.bus.unit_of_work import UnitOfWork
from worker.contexts.catalog import commands
from worker.contexts.catalog.settings import reservation_hold


def products(uow: UnitOfWork) -> Repository[Product]:
    return uow.repository(Product)


async def _load(uow: UnitOfWork, sku: str) -> Product:
    product = await products(uow).get(sku)
    if product is None:
        raise ProductNotFound(f"product {sku} does not exist")
    return product


async def add_product(cmd: commands.AddProduct, uow: UnitOfWork) -> None:
    if await products(uow).get(cmd.sku) is not None:
        raise ProductAlreadyExists(f"product {cmd.sku} already exists")
    products(uow).add(Product.add(cmd.sku, cmd.product_name, cmd.money, cmd.stock))


async def restock(cmd: commands.Restock, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.sku)).restock(cmd.quantity)


async def change_price(cmd: commands.ChangePrice, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.sku)).change_price(cmd.money)


async def discontinue_product(cmd: commands.DiscontinueProduct, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.sku)).discontinue()


async def reserve_stock(cmd: commands.ReserveStock, uow: UnitOfWork) -> None:
    product = await _load(uow, cmd.sku)
    product.reserve(cmd.order_id, cmd.quantity, datetime.now(UTC), reservation_hold())


async def release_stock(cmd: commands.ReleaseStock, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.sku)).release(cmd.order_id, datetime.now(UTC))


async def commit_stock(cmd: commands.CommitStock, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.sku)).commit(cmd.order_id, cmd.quantity, datetime.now(UTC))


async def return_stock(cmd: commands.ReturnStock, uow: UnitOfWork) -> None:
    (await _load(uow, cmd.sku)).return_committed(cmd.order_id, cmd.quantity)


HANDLERS: dict[type[Command], Handler] = {
    commands.AddProduct: add_product,
    commands.Restock: restock,
    commands.ChangePrice: change_price,
    commands.DiscontinueProduct: discontinue_product,
    commands.ReserveStock: reserve_stock,
    commands.ReleaseStock: release_stock,
    commands.CommitStock: commit_stock,
    commands.ReturnStock: return_stock,
}
