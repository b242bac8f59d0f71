"""Why the customers context refuses a command: each error is a business refusal with its code."""

from __future__ import annotations

from domain.shared.errors import BusinessRuleViolation


class CustomerNotFound(BusinessRuleViolation):
    code = "customer_not_found"


class CustomerAlreadyExists(BusinessRuleViolation):
    code = "customer_already_exists"


class PaymentAccountNotFound(BusinessRuleViolation):
    """The account a customer would pay with does not exist (the accounts context's code)."""

    code = "account_not_found"
