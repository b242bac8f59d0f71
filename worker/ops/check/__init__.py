"""Reconciliation: check the invariants across the whole database (``worker check``).

Pure rules over plain facts (``facts``, ``accounts``, ``transfers``, ``report``),
and the reading of those facts from the database and Temporal (``sources``).
"""

from worker.ops.check.facts import AccountFacts, EventFacts, TransferFacts, Violation
from worker.ops.check.report import Report, reconcile

__all__ = ["AccountFacts", "EventFacts", "Report", "TransferFacts", "Violation", "reconcile"]
