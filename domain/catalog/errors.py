"""Why the catalog refuses a command: each error is a business refusal with its code."""

from __future__ import annotations

from domain.shared.errors import BusinessRuleViolation


class ProductNotFound(BusinessRuleViolation):
    code = "product_not_found"


class ProductAlreadyExists(BusinessRuleViolation):
    code = "product_already_exists"


class ProductIsDiscontinued(BusinessRuleViolation):
    code = "product_discontinued"


class OutOfStock(BusinessRuleViolation):
    code = "out_of_stock"


class ReservationExpired(BusinessRuleViolation):
    """Neither a live reservation nor enough free stock to commit: the order must give up."""

    code = "reservation_expired"
