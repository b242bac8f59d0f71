"""What may be asked of a product, on ``catalog.commands``; and what only the order saga asks."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from domain.catalog.product import MAX_QUANTITY, NAME_MAX_LENGTH, SKU_PATTERN
from domain.shared.money import Money
from worker.bus.commands import (
    Command,
    CurrencyCode,
    DecimalString,
    EntityId,
    positive_in_its_currency,
)

Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]
#: Units an order may reserve or commit of one product at once (an order line's most).
MAX_ORDER_UNITS = 1000


class ProductCommand(Command):
    identity_fields: ClassVar[tuple[str, ...]] = ("sku",)

    sku: Sku

    @property
    def aggregate_id(self) -> str:
        return self.sku


class PricedCommand(ProductCommand):
    """A command carrying a price: a positive decimal string that fits its currency."""

    # The currency comes first so that the price's validator can see it.
    currency: CurrencyCode
    price: DecimalString

    @field_validator("price")
    @classmethod
    def _price_fits_the_currency(cls, price: str, info: ValidationInfo) -> str:
        return positive_in_its_currency(price, info)

    @property
    def money(self) -> Money:
        return Money.of(self.price, self.currency)


class AddProduct(PricedCommand):
    # On the wire the field is ``name``; in Python a field of that name would hide
    # Command.name() (the routing key) on every instance.
    model_config = ConfigDict(serialize_by_alias=True)

    product_name: Annotated[
        str,
        StringConstraints(min_length=1, max_length=NAME_MAX_LENGTH),
        Field(alias="name"),
    ]
    stock: Annotated[int, Field(ge=0, le=MAX_QUANTITY)] = 0

    @field_validator("product_name")
    @classmethod
    def _name_is_not_blank(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("name must not be blank")
        return name


class Restock(ProductCommand):
    quantity: Annotated[int, Field(gt=0, le=MAX_QUANTITY)]


class ChangePrice(PricedCommand):
    pass


class DiscontinueProduct(ProductCommand):
    pass


class StockCommand(ProductCommand):
    """Dispatched by the order saga only, for one of its order's lines."""

    internal: ClassVar[bool] = True
    identity_fields: ClassVar[tuple[str, ...]] = ("sku", "order_id")

    order_id: EntityId


class ReserveStock(StockCommand):
    quantity: Annotated[int, Field(gt=0, le=MAX_ORDER_UNITS)]


class ReleaseStock(StockCommand):
    pass


class CommitStock(StockCommand):
    quantity: Annotated[int, Field(gt=0, le=MAX_ORDER_UNITS)]


class ReturnStock(StockCommand):
    """Put back the units a CommitStock of the order took: its saga undoing the order."""

    quantity: Annotated[int, Field(gt=0, le=MAX_ORDER_UNITS)]
