"""What an aggregate id may be, in every context: no "/" (it separates the parts of a
saga's step keys), no spaces, at most 64 characters."""

from __future__ import annotations

import re

from domain.shared.errors import InvalidValue

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
#: A product's stock-keeping unit: the catalog's id of a product, and the orders' of a
#: line. Upper case, so it never reads as the saga's lower-case step names in a key.
SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,31}$"


def validate_id(kind: str, value: str) -> str:
    """``value`` if it can be the id of a ``kind`` ("account", "transfer"); else InvalidValue."""
    if not isinstance(value, str) or not re.fullmatch(ID_PATTERN, value):
        raise InvalidValue(f"{kind} id {value!r} does not match {ID_PATTERN}")
    return value


def validate_sku(sku: str) -> str:
    """``sku`` if it matches :data:`SKU_PATTERN`; else :class:`InvalidValue`."""
    if not isinstance(sku, str) or not re.fullmatch(SKU_PATTERN, sku):
        raise InvalidValue(f"sku {sku!r} does not match {SKU_PATTERN}")
    return sku
