"""What the engine offers checks from outside: the snapshot, and how sagas stand in Temporal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from worker.ops.check.engine import SagasUnreachable

DESCRIBE_TIMEOUT = timedelta(seconds=10)


@asynccontextmanager
async def snapshot() -> AsyncIterator[BaseDBAsyncClient]:
    """One read-only transaction that sees the database as of one moment (tortoise connected)."""
    async with in_transaction() as db:
        if db.capabilities.dialect == "postgres":
            await db.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield db


class TemporalSagas:
    """The saga-liveness port over Temporal: connects on the first question, not before.

    ``check`` asks nothing when no saga is unfinished, so it needs no Temporal then.
    The first failure to connect or describe is kept (``failure``) and every later
    question fails at once with it.
    """

    def __init__(self, connect: Callable[[], Awaitable[Client]]) -> None:
        self._connect = connect
        self._client: Client | None = None
        self._lock = asyncio.Lock()
        self.failure: BaseException | None = None

    async def _connected(self) -> Client:
        async with self._lock:
            if self.failure is not None:
                raise SagasUnreachable(str(self.failure)) from self.failure
            if self._client is None:
                try:
                    self._client = await self._connect()
                except (RuntimeError, RPCError) as error:
                    self.failure = error
                    raise SagasUnreachable(str(error)) from error
            return self._client

    async def execution(self, workflow_id: str) -> str | None:
        handle = (await self._connected()).get_workflow_handle(workflow_id)
        try:
            description = await handle.describe(rpc_timeout=DESCRIBE_TIMEOUT)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            self.failure = self.failure or error
            raise SagasUnreachable(str(error)) from error
        return description.status.name.lower() if description.status else "unknown"
