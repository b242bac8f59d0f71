"""Why the transfers context refuses a command: each error is a business refusal with its code."""

from __future__ import annotations

from domain.shared.errors import BusinessRuleViolation


class TransferConflict(BusinessRuleViolation):
    code = "transfer_conflict"


class TransferNotFound(BusinessRuleViolation):
    code = "transfer_not_found"
