"""`check`'s order rules on a database of the test's own: charges by the order saga's step
keys in the accounts' event record, stock held after an order ended, and saga liveness."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.private_database import private_url
from tests.unit.test_reconcile import FakeSagas
from tests.wiring import COMMANDS, CONTEXTS, tortoise_uow_factory
from tests.wiring import HANDLERS as COMMAND_HANDLERS
from worker.bus.messagebus import MessageBus
from worker.contexts.catalog.persistence import ProductRow, ReservationRow
from worker.contexts.orders.persistence import OrderRow
from worker.ops.check.engine import run_checks
from worker.ops.check.sources import snapshot
from worker.sagas.dispatcher import BusDispatcher

pytestmark = pytest.mark.integration
__all__ = ["private_url"]  # the fixture

ORDER_CHECKS = [check for check in CONTEXTS.checks if check.name in ("orders", "order_sagas")]
NOW = datetime.now(UTC)


class Shop:
    """Account commands through the real bus, with the message ids an order saga uses."""

    def __init__(self) -> None:
        self.bus = BusDispatcher(
            MessageBus(tortoise_uow_factory, COMMAND_HANDLERS), tortoise_uow_factory, COMMANDS
        )

    async def send(self, command: str, message_id: str | None = None, **fields: Any) -> None:
        result = await self.bus.dispatch(command, fields, message_id or uuid.uuid4().hex, None)
        assert result.status == "accepted", result

    async def money(self, command: str, message_id: str, amount: str) -> None:
        await self.send(command, message_id, account_id="acc-1", amount=amount, currency="EUR")

    async def order(self, order_id: str, status: str, total: str | None = "10.00") -> None:
        await OrderRow.create(
            id=order_id,
            customer_id="c-1",
            payment_account_id="acc-1",
            currency="EUR",
            status=status,
            total=None if total is None else Decimal(total),
            version=3,
            created_at=NOW,
            updated_at=NOW,
        )


async def test_check_names_each_order_whose_money_or_stock_disagrees_with_its_end(
    private_url: str,
) -> None:
    shop = Shop()
    await shop.send("OpenAccount", account_id="acc-1", owner="Ada", currency="EUR")
    await shop.money("Deposit", "funding", "100.00")
    await shop.order("o-ok", "confirmed")
    await shop.money("Withdraw", "order-o-ok/charge/1", "10.00")
    await shop.order("o-twice", "confirmed")
    await shop.money("Withdraw", "order-o-twice/charge/1", "10.00")
    await shop.money("Withdraw", "order-o-twice/charge/2", "10.00")
    await shop.order("o-refunded", "rejected")
    await shop.money("Withdraw", "order-o-refunded/charge/1", "10.00")
    await shop.money("Deposit", "order-o-refunded/refund_charge/1", "10.00")
    await shop.order("o-kept", "rejected")
    await shop.money("Withdraw", "order-o-kept/charge/1", "10.00")
    await shop.order("o-held", "cancelled")
    await shop.order("o-lapsed", "cancelled")
    await shop.money("Withdraw", "order-o-ghost/charge/1", "3.00")
    await shop.order("o-draft", "draft", total=None)
    await shop.order("o-live", "placed")
    await shop.order("o-lost", "placed")
    await shop.order("o-stopped", "needs_operator")
    await ProductRow.create(
        id="A-1", name="Anvil", price="5.00", currency="EUR", status="active", on_hand=9,
        version=1, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    for order_id, expires_at in (("o-held", NOW + timedelta(hours=1)), ("o-lapsed", NOW)):
        await ReservationRow.create(sku="A-1", order_id=order_id, quantity=2, expires_at=expires_at)
    sagas = FakeSagas({"order-o-live": "running", "order-o-stopped": "terminated"})

    report = await run_checks(ORDER_CHECKS, snapshot, sagas)

    assert sorted(v.line() for v in report.violations) == [
        "order_charge: o-ghost: 3.00 moved by the saga of an order that does not exist",
        "order_charge: o-kept: charged 10.00 EUR in 1 charge(s), refunded 0.00 EUR; "
        "a rejected order keeps no money",
        "order_charge: o-twice: charged 20.00 EUR in 2 charge(s), refunded 0.00 EUR; "
        "a confirmed order is charged its total (10.00 EUR) exactly once",
        "order_without_saga: o-lost: placed, but no run",
        "order_without_saga: o-stopped: needs_operator, but its run is terminated "
        "(`sagas retry o-stopped --kind order --reason ...` restarts it)",
        "stock_held: o-held: holds 2 of A-1, but the order is cancelled",
    ]
    assert sorted(sagas.asked) == ["order-o-live", "order-o-lost", "order-o-stopped"]
    orders = report.figures["orders"]
    assert orders["by_status"] == {  # type: ignore[index]
        "cancelled": 2, "confirmed": 2, "draft": 1, "needs_operator": 1, "placed": 2,
        "rejected": 2,
    }  # fmt: skip
    assert orders["charged"] == {"EUR": "40.00"}  # type: ignore[index]


async def test_without_sagas_the_liveness_of_orders_is_reported_unchecked(
    private_url: str,
) -> None:
    await Shop().order("o-unseen", "placed")

    report = await run_checks(ORDER_CHECKS, snapshot, None)

    assert report.figures["order_sagas"]["checked"] is False  # type: ignore[index]
    assert not [v for v in report.violations if v.kind == "order_without_saga"]
