"""The tabs context's own reconciliation check, which ``check`` runs beside the money check."""

from __future__ import annotations

from collections import Counter

from worker.ops.check.engine import CheckResult, Judged, Reading, Snapshot
from worker.ops.check.facts import Violation


class TabsCheck:
    """Every line holds at least one item, and no tab past ``open`` is empty."""

    name = "tabs"

    async def read(self, snapshot: Snapshot) -> Reading:
        _, tabs = await snapshot.db.execute_query("SELECT id, status FROM tabs ORDER BY id")
        _, lines = await snapshot.db.execute_query(
            "SELECT tab_id, line_no, quantity FROM tab_lines ORDER BY tab_id, line_no"
        )
        violations = [
            Violation("tab_line", str(line["tab_id"]), f"line {line['line_no']} holds {n} items")
            for line in lines
            if (n := int(line["quantity"])) < 1
        ]
        lines_of = Counter(str(line["tab_id"]) for line in lines)
        violations += [
            Violation("empty_tab", str(tab["id"]), f"the tab is {tab['status']} with no line")
            for tab in tabs
            if tab["status"] != "open" and not lines_of[str(tab["id"])]
        ]
        by_status = Counter(str(tab["status"]) for tab in tabs)
        return Judged(
            CheckResult(
                violations=violations,
                figures={"tabs": {"checked": len(tabs), **dict(sorted(by_status.items()))}},
                summary=f"tabs: {len(tabs)} checked",
            )
        )


TABS_CHECK = TabsCheck()
