"""The report ``worker check`` prints: every check's violations and figures, merged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from worker.ops.check.facts import Violation

if TYPE_CHECKING:
    from worker.ops.check.engine import CheckResult

#: The keys of ``check --json`` that belong to the engine, not to a check.
RESERVED = frozenset({"ok", "violations"})


class CheckConflict(Exception):
    """Two checks share a name or a figure's key: their reports would overwrite each other."""


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    #: Every check's figures, by key, in the order the checks are declared.
    figures: dict[str, object] = field(default_factory=dict)
    #: Every check's part of the summary line.
    summaries: list[str] = field(default_factory=list)

    @classmethod
    def merge(cls, results: Iterable[CheckResult]) -> Report:
        report = cls()
        for result in results:
            taken = sorted((RESERVED | report.figures.keys()) & result.figures.keys())
            if taken:
                raise CheckConflict(f"two checks report the figure {', '.join(taken)}")
            report.violations += result.violations
            report.figures.update(result.figures)
            report.summaries += [result.summary] if result.summary else []
        return report

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        """The stable shape scripts read (``worker check --json``)."""
        return {"ok": self.ok, "violations": [v.to_json() for v in self.violations]} | dict(
            self.figures
        )

    def summary(self) -> str:
        return "; ".join([*self.summaries, f"violations: {len(self.violations)}"])
