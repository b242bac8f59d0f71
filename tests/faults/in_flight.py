"""Work in flight: faults wait until there is some, and record how much there was.

A fault that lands after the work is done tests nothing. So each fault first
waits at its gate (at least so many confirmed messages not handled yet, or so
many transfers not ended while a saga has already withdrawn money), then strikes;
what was outstanding at that moment is kept for the figures ("in flight").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from tests.faults.observe import UNREACHABLE
from tests.faults.traffic import Ledger
from tests.faults.transfer_checks import ENDED, TRANSFER, transfer_id

#: Waits until there is work in flight and records it (True), or gives up (False).
Gate = Callable[[], Awaitable[bool]]


class NothingInFlight(AssertionError):
    """The work was done before the fault could strike."""


@dataclass
class InFlight:
    database_url: str
    ledger: Ledger
    #: How long a gate waits for work in flight.
    timeout: float = 60
    #: A test fails when a fault finds nothing to strike at; the soak skips that fault.
    strict: bool = True
    at_faults: list[int] = field(default_factory=list)
    missed: int = 0

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.database_url)
        try:
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()

    async def unhandled(self) -> list[str]:
        """Message ids confirmed by the broker, bound for the inbox, not in it yet (in order)."""
        ids = [
            m.message_id
            for m in self.ledger.sent()
            if m.message_id and not (m.expect or "").startswith("dead")
        ]
        sql = "SELECT message_id FROM inbox WHERE message_id = ANY($1::text[])"
        handled = {row["message_id"] for row in await self._fetch(sql, ids)}
        return [message_id for message_id in ids if message_id not in handled]

    async def messages(self) -> int:
        return len(await self.unhandled())

    async def transfers(self) -> int:
        """Transfers not ended yet, counted once a saga step has withdrawn money (0 before)."""
        ids = [transfer_id(m) for m in self.ledger.sent() if m.command == TRANSFER]
        withdrawn = await self._fetch(
            "SELECT 1 FROM inbox WHERE message_id LIKE 'transfer-%/withdraw/%'"
            " AND status = 'accepted' LIMIT 1"
        )
        if not withdrawn:
            return 0
        sql = "SELECT count(*) AS n FROM transfers WHERE id = ANY($1::text[]) AND state = ANY($2)"
        ended = (await self._fetch(sql, ids, list(ENDED)))[0]["n"]
        return len(ids) - int(ended)

    def messages_at_least(self, count: int) -> Gate:
        return self._gate(self.messages, count)

    def transfers_at_least(self, count: int) -> Gate:
        return self._gate(self.transfers, count)

    def _gate(self, measure: Callable[[], Awaitable[int]], count: int) -> Gate:
        async def gate() -> bool:
            deadline = time.monotonic() + self.timeout
            found = 0
            while time.monotonic() < deadline:
                try:
                    found = await measure()
                except UNREACHABLE:  # another fault took a server away: wait
                    found = 0
                if found >= count:
                    self.at_faults.append(found)
                    return True
                await asyncio.sleep(0.1)
            if self.strict:
                raise NothingInFlight(f"never {count} in flight within {self.timeout}s ({found})")
            self.missed += 1
            return False

        return gate
