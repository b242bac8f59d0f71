"""Reconciliation: every bounded context's checks over one snapshot (``worker check``).

The engine (``engine``) runs the checks the contexts declare and merges their
results into one report (``report``); ``sources`` opens the snapshot and asks
Temporal how sagas stand.
"""

from worker.ops.check.engine import (
    Afterwards,
    Check,
    CheckResult,
    Judged,
    Reading,
    SagaLiveness,
    SagasUnreachable,
    Snapshot,
    run_checks,
)
from worker.ops.check.facts import Violation
from worker.ops.check.report import CheckConflict, Report

__all__ = [
    "Afterwards",
    "Check",
    "CheckConflict",
    "CheckResult",
    "Judged",
    "Reading",
    "Report",
    "SagaLiveness",
    "SagasUnreachable",
    "Snapshot",
    "Violation",
    "run_checks",
]
