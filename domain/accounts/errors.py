"""Why the accounts context refuses a command: each error is a business refusal with its code."""

from __future__ import annotations

from domain.shared.errors import BusinessRuleViolation


class InsufficientFunds(BusinessRuleViolation):
    code = "insufficient_funds"


class AccountIsFrozen(BusinessRuleViolation):
    code = "account_frozen"


class AccountIsClosed(BusinessRuleViolation):
    code = "account_closed"


class BalanceLimitExceeded(BusinessRuleViolation):
    code = "balance_limit_exceeded"


class AccountNotFound(BusinessRuleViolation):
    code = "account_not_found"


class AccountAlreadyExists(BusinessRuleViolation):
    code = "account_already_exists"


class NonZeroBalance(BusinessRuleViolation):
    code = "non_zero_balance"
