"""A saga step is applied only for a run this database started.

Temporal remembers a saga's id longer than a database may live: a run started by a
database since recreated may still be open (waiting for an operator, retrying a
step) and served by this database's workers. Its steps carry the same keys a run
of this database would use, so without this check they would move money here for a
request this database never made. The starter keeps such a run from being adopted;
this guard keeps its steps from being applied.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from worker.sagas.client import TemporalConnection
from worker.sagas.identity import database_identity, origin_of

#: The error type of a step refused because its run belongs to another database.
FOREIGN_RUN = "ForeignRun"
#: Runs remembered per process (one describe per run, not per step).
REMEMBERED_RUNS = 10_000


class RunOwnership:
    """Asks Temporal once per run which database started it, from the run's memo."""

    def __init__(
        self,
        temporal: TemporalConnection,
        identity: Callable[[], Awaitable[str]] = database_identity,
    ) -> None:
        self._temporal = temporal
        self._identity = identity
        self._ours: str | None = None
        self._foreign: OrderedDict[str, str | None] = OrderedDict()

    async def require_ours(self) -> None:
        """Raise a non-retryable ``ForeignRun`` error when the current activity's run was
        started by another database. Outside an activity, and for a run from before
        memos (it names no database), there is nothing to check."""
        if not activity.in_activity():
            return
        info = activity.info()
        run_id, workflow_id = info.workflow_run_id, info.workflow_id
        if run_id is None or workflow_id is None:
            return  # not a workflow's activity
        if run_id not in self._foreign:
            self._foreign[run_id] = await self._foreign_database(workflow_id, run_id)
            while len(self._foreign) > REMEMBERED_RUNS:
                self._foreign.popitem(last=False)
        theirs = self._foreign[run_id]
        if theirs is not None:
            raise ApplicationError(
                f"run {run_id} of {workflow_id} was started by database {theirs}, not "
                f"by this one ({self._ours}): its steps are not applied here",
                type=FOREIGN_RUN,
                non_retryable=True,
            )

    async def _foreign_database(self, workflow_id: str, run_id: str) -> str | None:
        if self._ours is None:
            self._ours = await self._identity()
        client = await self._temporal.client()
        run = await client.get_workflow_handle(workflow_id, run_id=run_id).describe()
        theirs = (await origin_of(run)).database
        return None if theirs in (None, self._ours) else theirs
