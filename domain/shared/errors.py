"""Domain errors, split by what the caller should do about them.

- :class:`BusinessRuleViolation`: the request was well formed but a rule said
  no. The outcome is *rejected*: recorded, never retried.
- :class:`InvalidValue`: the input itself is malformed (a bad amount, an
  unknown currency). The outcome is *invalid*.
- :class:`ConcurrencyConflict`: somebody else changed the aggregate first;
  reload and try again.

Each error declares its :class:`FailureClass` here, next to its type; the
worker's failure policy (``worker/bus/failures.py``) adds the infrastructure's errors
and decides from the class alone what happens: retries, the DLQ, the log level,
and whether a Temporal activity may retry.
"""

from __future__ import annotations

import enum
from typing import ClassVar


class FailureClass(enum.StrEnum):
    """What kind of failure an error is, which decides everything done about it."""

    TRANSIENT = "transient"  # a dependency is unavailable: wait and try again
    CONFLICT = "conflict"  # somebody else changed the aggregate: reload and retry
    INVALID = "invalid"  # the message itself is bad: no retry can help
    REJECTED = "rejected"  # a business rule said no: a final, recorded answer
    BUG = "bug"  # anything unexpected: a few retries, then a human

    @property
    def retryable(self) -> bool:
        return self not in (FailureClass.INVALID, FailureClass.REJECTED)


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "domain_error"
    failure_class: ClassVar[FailureClass] = FailureClass.BUG


class InvalidValue(DomainError, ValueError):
    """The input cannot form a valid value (bad input, not a business refusal)."""

    code = "invalid_value"
    failure_class = FailureClass.INVALID


class BusinessRuleViolation(DomainError):
    """A business rule refused the operation."""

    code = "business_rule_violation"
    failure_class = FailureClass.REJECTED


class CurrencyMismatch(BusinessRuleViolation):
    """Two amounts in different currencies were combined."""

    code = "currency_mismatch"


class InvalidStateTransition(BusinessRuleViolation):
    code = "invalid_state_transition"


class ConcurrencyConflict(DomainError):
    """The aggregate was changed by someone else since it was loaded."""

    code = "concurrency_conflict"
    failure_class = FailureClass.CONFLICT
