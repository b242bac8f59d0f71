"""Why the orders context refuses a command: each error is a business refusal with its code."""

from __future__ import annotations

from domain.shared.errors import BusinessRuleViolation


class OrderNotFound(BusinessRuleViolation):
    code = "order_not_found"


class OrderAlreadyExists(BusinessRuleViolation):
    code = "order_already_exists"


class OrderNotDraft(BusinessRuleViolation):
    """Lines change only while the order is a draft."""

    code = "order_not_draft"


class EmptyOrder(BusinessRuleViolation):
    code = "empty_order"


class LineItemNotFound(BusinessRuleViolation):
    code = "line_item_not_found"


class TooManyLines(BusinessRuleViolation):
    code = "too_many_lines"


class TooManyUnits(BusinessRuleViolation):
    code = "too_many_units"


class OrderNotCancellable(BusinessRuleViolation):
    """Charging has begun, the order has ended, or a cancellation is already requested."""

    code = "order_not_cancellable"


class OrderWasCancelled(BusinessRuleViolation):
    """The saga may not charge: the customer asked to cancel first."""

    code = "order_cancelled"


# The orders context's own names for what it reads from other contexts.


class UnknownCustomer(BusinessRuleViolation):
    code = "customer_not_found"


class UnknownProduct(BusinessRuleViolation):
    code = "product_not_found"


class ProductUnavailable(BusinessRuleViolation):
    code = "product_discontinued"


class UnknownPaymentAccount(BusinessRuleViolation):
    """The account the customer pays with does not exist: nothing could charge the order."""

    code = "account_not_found"
