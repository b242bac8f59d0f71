"""What the API's routes share for the life of the app: the broker and a Temporal client,
each connected lazily (a request while one is down is a 503, and the next one retries)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from temporalio.client import Client

from worker.config import Settings
from worker.context import Contexts
from worker.sagas.client import TemporalConnection
from worker.web.api.broker import Broker, BrokerUnavailable, Refused, Unroutable
from worker.web.api.outcomes import record_reply
from worker.web.problems import RETRY_AFTER, Problem, unavailable

log = logging.getLogger("worker.http")
TEMPORAL_TIMEOUT = 3.0


@dataclass(eq=False)
class NotSent(Problem):
    """A 503 for a command that certainly reached no queue (a retry may start afresh)."""


def _not_sent(code: str, detail: str) -> NotSent:
    return NotSent(503, code, detail, headers={"Retry-After": RETRY_AFTER})


@dataclass
class Services:
    settings: Settings
    catalog: Contexts
    broker: Broker = field(init=False)
    _temporal: TemporalConnection = field(init=False)
    #: Set when the server begins to stop: requests waiting for an outcome answer at once.
    stopping: asyncio.Event = field(init=False, default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.broker = Broker(self.settings.amqp_url, record_reply)
        self._temporal = TemporalConnection(self.settings, self.catalog.sagas)

    async def start(self) -> None:
        """Connect the broker now if it is up; if not, the first request that needs it will."""
        if not await self.broker.reachable():
            log.warning("HTTP API: the broker is unreachable for now; commands get 503 until it is")

    async def close(self) -> None:
        await self.broker.close()

    async def publish(self, name: str, body: bytes, key: str) -> None:
        """Publish the command ``name`` confirmed; a 503 problem when the broker cannot
        (:class:`NotSent` when the command certainly reached no queue)."""
        try:
            await self.broker.publish(name, body, key)
        except Unroutable as error:
            raise _not_sent(
                "unroutable",
                f"the broker could not route {name} ({error}): the worker's topology may not "
                "be declared yet (has a worker started once?)",
            ) from None
        except Refused as error:
            raise _not_sent("refused", f"the broker refused the command: {error}") from None
        except BrokerUnavailable as error:
            detail = f"cannot reach the broker: {error}"
            if error.maybe_sent:
                raise unavailable("broker_unavailable", detail) from None
            raise _not_sent("broker_unavailable", detail) from None

    async def temporal(self) -> Client:
        """The Temporal client, or a 503 ``temporal_unavailable``."""
        try:
            async with asyncio.timeout(TEMPORAL_TIMEOUT):
                return await self._temporal.client()
        except (RuntimeError, OSError, TimeoutError) as error:
            address = self.settings.temporal_address
            reason = str(error) or type(error).__name__
            raise unavailable(
                "temporal_unavailable", f"cannot reach Temporal at {address}: {reason}"
            ) from None
