"""A check a context may declare for any of its sagas: every record the saga has not
ended has a live run, or waits for the relay to start one.

Runs are looked at after the snapshot, so a record whose run looks closed is read
afresh first: it may have ended since.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from worker.ops.check.engine import Afterwards, CheckResult, SagasUnreachable, Snapshot
from worker.ops.check.facts import Violation
from worker.persistence.sql import dialect_sql
from worker.sagas.declaration import SagaDeclaration
from worker.sagas.records import record_state

PROBES_AT_ONCE = 16
UNSENT_STARTS = "SELECT aggregate_id FROM outbox WHERE event_type = ? AND sent_at IS NULL"


@dataclass(frozen=True)
class SagaLivenessCheck:
    """``saga``'s records outside its ended states (and outside ``before_start``, the
    states a record has before it asks for a run, such as a draft order) have a run."""

    saga: SagaDeclaration
    before_start: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return f"{self.saga.kind}_sagas"

    async def read(self, snapshot: Snapshot) -> LivenessReading:
        record, db = self.saga.record, snapshot.db
        _, rows = await db.execute_query(
            f'SELECT "{record.id_column}" AS id, "{record.state_column}" AS state '
            f'FROM "{record.table}"'
        )
        _, pending = await db.execute_query(
            dialect_sql(db, UNSENT_STARTS),
            [self.saga.started_by],
        )
        waiting = {str(row["aggregate_id"]) for row in pending}
        skipped = record.ended | self.before_start
        unfinished = {
            str(row["id"]): str(row["state"])
            for row in rows
            if str(row["state"]) not in skipped and str(row["id"]) not in waiting
        }
        return LivenessReading(self.saga, unfinished, len(waiting))


@dataclass(frozen=True)
class LivenessReading:
    saga: SagaDeclaration
    #: State by business id, of each record whose run should be live.
    unfinished: dict[str, str]
    waiting_to_start: int

    async def judge(self, afterwards: Afterwards) -> CheckResult:
        kind = self.saga.kind
        figures = {"unfinished": len(self.unfinished), "waiting_to_start": self.waiting_to_start}
        if afterwards.sagas is None:
            return self._unchecked(figures)
        limit = asyncio.Semaphore(PROBES_AT_ONCE)

        async def probe(business_id: str, state: str) -> Violation | None:
            assert afterwards.sagas is not None
            async with limit:
                execution = await afterwards.sagas.execution(self.saga.workflow_id(business_id))
            if execution == "running":
                return None
            now = await record_state(self.saga, business_id)
            if now is None or now.state in self.saga.record.ended:
                return None  # it ended between the snapshot and this look
            run = "no run" if execution is None else f"its run is {execution}"
            hint = f"`sagas retry {business_id} --kind {kind} --reason ...` restarts it"
            detail = f"{state}, but {run}" + ("" if execution is None else f" ({hint})")
            return Violation(f"{kind}_without_saga", business_id, detail)

        try:
            found = await asyncio.gather(*(probe(i, s) for i, s in self.unfinished.items()))
        except SagasUnreachable:  # `check` says why, once, whichever check asked
            return self._unchecked(figures)
        violations = [v for v in found if v is not None]
        summary = f"{kind} sagas: {len(self.unfinished)} unfinished, {len(violations)} not live"
        return CheckResult(violations, {self.name: {**figures, "checked": True}}, summary)

    @property
    def name(self) -> str:
        return f"{self.saga.kind}_sagas"

    def _unchecked(self, figures: dict[str, int]) -> CheckResult:
        return CheckResult([], {self.name: {**figures, "checked": False}}, "")
