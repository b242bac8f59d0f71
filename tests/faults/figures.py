"""The figures of each scenario: what was sent and what became of it, as a table and as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from tests.faults.report import Report

ROOT = Path(__file__).resolve().parents[2]
JSON_PATH = ROOT / ".data" / "faults.json"


@dataclass(frozen=True)
class Figures:
    scenario: str
    sent: int
    applied: int
    rejected: int
    dead_lettered: int
    lost: int
    duplicated: int
    unexpected: int
    violations: int
    kills: int
    restarts: int
    #: The least work in flight (messages or transfers) any fault found; None: no fault.
    in_flight: int | None
    seconds: float
    seed: int | None = None
    #: What ``python -m worker check --json`` said at the end: ok, failed or skipped.
    check: str = "skipped"
    #: Scenario 7 (None elsewhere): valid commands found in a DLQ, connections the
    #: worker lost, and the slowest bad message's seconds from publish to its outcome.
    valid_dead: int | None = None
    connections_lost: int | None = None
    slowest_settle: float | None = None
    #: The orders scenario (None elsewhere): orders placed, and how many ended each way.
    orders_placed: int | None = None
    confirmed: int | None = None
    orders_rejected: int | None = None
    cancelled: int | None = None
    needs_operator: int | None = None

    @classmethod
    def of(
        cls,
        scenario: str,
        report: Report,
        *,
        kills: int,
        restarts: int,
        seconds: float,
        seed: int | None = None,
        check: dict[str, object] | None = None,
        in_flight: list[int] | None = None,
    ) -> Figures:
        return cls(
            scenario=scenario,
            sent=report.sent,
            applied=report.count("accepted"),
            rejected=report.count("rejected"),
            dead_lettered=report.count("dead"),
            lost=len(report.lost),
            duplicated=len(report.duplicated),
            unexpected=len(report.unexpected),
            violations=len(report.violations),
            kills=kills,
            restarts=restarts,
            in_flight=min(in_flight) if in_flight else None,
            seconds=round(seconds, 1),
            seed=seed,
            check="skipped" if check is None else "ok" if check.get("ok") is True else "failed",
        )


#: Every scenario run in this process, in order (the pytest summary and the soak read it).
RECORDED: list[Figures] = []

HEADERS = {
    "scenario": "scenario",
    "sent": "sent",
    "applied": "applied",
    "rejected": "rejected",
    "dead_lettered": "DLQ",
    "lost": "lost",
    "duplicated": "twice",
    "unexpected": "unexpected",
    "violations": "violations",
    "kills": "kills",
    "restarts": "restarts",
    "in_flight": "in flight at fault",
    "seconds": "seconds",
    "valid_dead": "valid in DLQ",
    "connections_lost": "conn lost",
    "slowest_settle": "slowest bad s",
    "orders_placed": "orders",
    "confirmed": "confirmed",
    "orders_rejected": "rejected orders",
    "cancelled": "cancelled",
    "needs_operator": "needs operator",
}
#: Columns whose total would mean nothing.
NOT_TOTALLED = frozenset({"in_flight", "slowest_settle"})


def cell(value: object) -> str:
    return "-" if value is None else str(value)


def total(rows: list[Figures], name: str) -> str:
    """A column's total ("" where it would mean nothing, "-" where no row has a value)."""
    if name in NOT_TOTALLED:
        return ""
    values = [getattr(row, name) for row in rows if getattr(row, name) is not None]
    return str(round(sum(values), 1)) if values else "-"


def table(rows: list[Figures]) -> str:
    """A plain-text table, one row per scenario, with a total row."""
    names = list(HEADERS)
    cells = [[HEADERS[name] for name in names]]
    cells += [[cell(getattr(row, name)) for name in names] for row in rows]
    if len(rows) > 1:
        cells.append(["total", *(total(rows, name) for name in names[1:])])
    widths = [max(len(line[i]) for line in cells) for i in range(len(names))]

    def line(values: list[str]) -> str:
        first = values[0].ljust(widths[0])
        return "  ".join(
            [first, *(v.rjust(w) for v, w in zip(values[1:], widths[1:], strict=True))]
        )

    rendered = [line(cells[0]), line(["-" * w for w in widths])]
    return "\n".join(rendered + [line(values) for values in cells[1:]])


def save(rows: list[Figures], path: Path = JSON_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [f.name for f in fields(Figures)]
    path.write_text(
        json.dumps({"columns": columns, "scenarios": [asdict(r) for r in rows]}, indent=2)
    )
    return path
