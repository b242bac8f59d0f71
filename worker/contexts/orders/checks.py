"""The orders' check as ``check`` runs it: what each order was charged and what stock it
holds, read in the engine's snapshot (the rules are in ``checks_rules``)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from worker.contexts.accounts.published import read_ledger
from worker.contexts.catalog.published import read_stock
from worker.contexts.orders.checks_rules import Holding, OrderFacts, check_orders
from worker.contexts.orders.persistence import OrderRow
from worker.ops.check.engine import Judged, Snapshot


class OrdersCheck:
    """A confirmed order was charged its total once; one that failed keeps no money and
    holds no stock; money moved by order sagas belongs to orders that exist."""

    name = "orders"

    async def read(self, snapshot: Snapshot) -> Judged:
        now = datetime.now(UTC)
        orders = [
            OrderFacts(
                row.id,
                row.payment_account_id,
                row.currency,
                row.status,
                None if row.total is None else Decimal(row.total),
            )
            for row in await OrderRow.all().using_db(snapshot.db).order_by("id")
        ]
        ledger = await read_ledger(snapshot.db, snapshot.progress)
        held = [
            Holding(stock.sku, reservation.order_id, reservation.quantity)
            for stock in await read_stock(snapshot.db, snapshot.progress)
            for reservation in stock.reservations
            if now < reservation.expires_at
        ]
        verified = ledger.verdict().verified
        return Judged(check_orders(orders, ledger.events, verified, held).result())


ORDERS_CHECK = OrdersCheck()
