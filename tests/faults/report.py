"""What the checker found: every message's outcome, and what must not be there."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass
class Report:
    """Outcomes by ledger ref (``accepted``, ``rejected:<code>``, ``dead:<code>``, ``lost``),
    effects applied twice, outcomes other than planned, broken invariants, and what
    is still under way (transfers, unsent events, queued messages)."""

    sent: int = 0
    published: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)
    duplicated: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    #: Transfers whose saga still runs (one resting in another state than planned,
    #: needs_operator say, is in ``unexpected``).
    unsettled: list[str] = field(default_factory=list)
    unsent_events: int = 0
    #: Messages still waiting in command or retry queues (copies included), ready or
    #: held unacknowledged by a worker.
    waiting: int = 0

    def count(self, kind: str) -> int:
        return sum(outcome.split(":")[0] == kind for outcome in self.outcomes.values())

    @property
    def lost(self) -> list[str]:
        return [ref for ref, outcome in self.outcomes.items() if outcome == "lost"]

    @property
    def settled(self) -> bool:
        """Nothing lost, waiting or unsent, no saga running: nothing more will happen by itself.

        Not the same as sound: a saga waiting for an operator is settled, and unexpected."""
        return not (self.lost or self.waiting or self.unsent_events or self.unsettled)

    @property
    def ok(self) -> bool:
        return self.settled and not (self.duplicated or self.unexpected or self.violations)

    def only(self, refs: set[str]) -> Report:
        """The same report, its outcomes narrowed to ``refs`` (say, one soak round's)."""
        outcomes = {ref: o for ref, o in self.outcomes.items() if ref in refs}
        return replace(self, sent=len(outcomes), outcomes=outcomes)

    def summary(self, limit: int = 10) -> str:
        counts = {kind: self.count(kind) for kind in ("accepted", "rejected", "dead")}
        return "\n".join(
            [
                f"sent {self.sent} ({self.published} publishes), {counts}, lost {len(self.lost)}",
                f"lost: {self.lost[:limit]}",
                f"applied twice: {self.duplicated[:limit]}",
                f"unexpected: {self.unexpected[:limit]}",
                f"violations: {self.violations[:limit]}",
                f"transfers not settled: {self.unsettled[:limit]}; unsent events: "
                f"{self.unsent_events}; messages waiting in queues: {self.waiting}",
            ]
        )
