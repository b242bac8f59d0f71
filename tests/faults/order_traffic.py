"""What the orders scenario does while it runs: steps that wait for the worker, the
CancelOrders racing the sagas, and the gate that lets a fault strike only while orders
are at every step of their saga (keeping how many were at each)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import asyncpg

from tests.faults.in_flight import Gate, InFlight
from tests.faults.order_checks import STEP_KEY
from tests.faults.order_facts import AT_REST
from tests.faults.orders import OrderPlan
from tests.faults.publishers import Publisher
from tests.faults.scenarios import Run
from tests.faults.traffic import Planned

#: The saga's forward steps in the order it takes them: where an order in flight has got to.
STEPS = ("reserve_stock", "start_charge", "charge", "commit_stock")


async def handled(run: Run, messages: list[Planned], timeout: float = 60) -> None:
    """Publish ``messages`` and wait until the worker handled them all (the inbox says so):
    the next step's commands need this one's aggregates. The final report judges them."""
    await run.publish(messages)
    ids = [message.message_id for message in messages]
    deadline = time.monotonic() + timeout
    while await run.in_flight.unhandled() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    sql = "SELECT count(*) FROM inbox WHERE message_id = ANY($1::text[]) AND status = 'accepted'"
    connection = await asyncpg.connect(run.env.database_url)
    try:
        accepted = await connection.fetchval(sql, ids)
    finally:
        await connection.close()
    assert accepted == len(ids), f"{accepted} of {len(ids)} {messages[0].command}... accepted"


async def reached(url: str, placements: dict[str, Planned]) -> dict[str, set[str]]:
    """Where each order got to: "placed", the saga steps it applied, "at rest"."""
    found: defaultdict[str, set[str]] = defaultdict(set)
    by_id = {placed.message_id: order_id for order_id, placed in placements.items()}
    connection = await asyncpg.connect(url)
    try:
        sql = "SELECT message_id FROM inbox WHERE message_id = ANY($1::text[])"
        for row in await connection.fetch(sql, list(by_id)):
            found[by_id[row["message_id"]]].add("placed")
        sql = "SELECT message_id FROM inbox WHERE message_id LIKE 'order-%' AND status = 'accepted'"
        for row in await connection.fetch(sql):
            if (match := STEP_KEY.match(row["message_id"])) is not None:
                found[match[1]].add(match[2])
        sql = "SELECT id FROM orders WHERE status = ANY($1::text[])"
        for row in await connection.fetch(sql, list(AT_REST)):
            found[row["id"]].add("at rest")
    finally:
        await connection.close()
    return found


async def race_cancels(run: Run, plans: list[OrderPlan], placements: dict[str, Planned]) -> None:
    """Send each planned CancelOrder as soon as its order got where the plan says (or came
    to rest without getting there)."""
    waiting = {plan.order_id: plan for plan in plans if plan.cancel is not None}
    deadline = time.monotonic() + 90
    async with Publisher(run.env.amqp_url, run.ledger) as publisher:
        while waiting and time.monotonic() < deadline:
            got = await reached(run.env.database_url, placements)
            for order_id, plan in list(waiting.items()):
                if plan.cancel is not None and {plan.cancel_after, "at rest"} & got[order_id]:
                    del waiting[order_id]
                    await publisher.publish_all(run.ledger.plan([plan.cancel]))
            await asyncio.sleep(0.05)


@dataclass
class OrdersInFlight(InFlight):
    """Orders placed and not at rest, counted only while each of ``steps`` has an order at
    it: the saga started, the steps before it applied, that one not yet."""

    steps: frozenset[str] = frozenset(STEPS)
    #: At each fault: how many orders in flight were at each step (or "starting", their
    #: saga not started yet; "compensating"; "recording", the outcome).
    steps_at_faults: list[dict[str, int]] = field(default_factory=list)
    _seen: Counter[str] = field(default_factory=Counter)

    async def orders(self) -> int:
        ids = [m.body_json["order_id"] for m in self.ledger.sent() if m.command == "PlaceOrder"]
        sql = "SELECT id FROM orders WHERE id = ANY($1::text[]) AND status = 'placed'"
        placed = {row["id"] for row in await self._fetch(sql, ids)}
        sql = (
            "SELECT aggregate_id FROM outbox WHERE event_type = 'orders.OrderPlaced'"
            " AND sent_at IS NULL"
        )
        starting = {row["aggregate_id"] for row in await self._fetch(sql)}
        sql = "SELECT message_id FROM inbox WHERE message_id LIKE 'order-%' AND status = 'accepted'"
        applied: defaultdict[str, set[str]] = defaultdict(set)
        for row in await self._fetch(sql):
            if (match := STEP_KEY.match(row["message_id"])) is not None:
                applied[match[1]].add(match[2])

        def at(order_id: str) -> str:
            done = applied[order_id]
            if order_id in starting:
                return "starting"
            if done - set(STEPS):
                return "compensating"
            return next((step for step in STEPS if step not in done), "recording")

        self._seen = Counter(at(order_id) for order_id in placed)
        return len(placed) if self.steps <= self._seen.keys() else 0

    def orders_at_least(self, count: int) -> Gate:
        gate = self._gate(self.orders, count)

        async def recorded() -> bool:
            opened = await gate()
            if opened:
                self.steps_at_faults.append(dict(self._seen))
            return opened

        return recorded
