"""The order saga's activities: each dispatches its commands through the bus, idempotently."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.orders.shared import (
    RESERVATION_EXPIRED,
    ChargeStep,
    OrderLine,
    OrderOutcome,
    OrderStep,
    RefundResult,
    RefundStep,
    ReleaseStep,
    StockStep,
    line_id,
    release_id,
    renew_id,
    return_id,
)
from workflows.saga.activities import (
    REFUSED,
    Applied,
    CommandActivities,
    raise_unless_accepted,
)
from workflows.saga.types import DispatchResult


class OrderActivities(CommandActivities):
    """Reserve, charge, commit and their undoing, through the bus it is given."""

    async def _line(
        self, command: str, step: StockStep, line: OrderLine, message_id: str, *, quantity: bool
    ) -> DispatchResult:
        fields: dict[str, Any] = {"sku": line.sku, "order_id": step.order_id}
        if quantity:
            fields["quantity"] = line.quantity
        return await self._dispatcher.dispatch(command, fields, message_id, step.correlation_id)

    async def _release(
        self, step: StockStep, lines: list[OrderLine], id_of: Callable[[str], str]
    ) -> None:
        for line in lines:
            released = await self._line("ReleaseStock", step, line, id_of(line.sku), quantity=False)
            raise_unless_accepted(released)

    @activity.defn(name="reserve_stock")
    async def reserve_stock(self, step: StockStep) -> None:
        """Reserve every line, all or none: a refused line releases those reserved before it."""
        reserved: list[OrderLine] = []
        for line in step.lines:
            result = await self._line(
                "ReserveStock", step, line, line_id(step.message_id, line.sku), quantity=True
            )
            if result.status != "accepted":
                await self._release_own(step, reserved)
            raise_unless_accepted(result)
            reserved.append(line)

    async def _release_own(self, step: StockStep, reserved: list[OrderLine]) -> None:
        """Release what this attempt reserved: the base drops a refused step's undo."""
        try:
            await self._release(step, reserved, lambda sku: release_id(step.message_id, sku))
        except ApplicationError as error:
            # Not the step's refusal, or it would end rejected with stock held: retried,
            # then compensated by release_stock, which an operator sees through.
            raise RuntimeError(f"releasing the lines reserved: {error.message}") from None

    @activity.defn(name="release_stock")
    async def release_stock(self, step: ReleaseStep) -> None:
        """Give every line back once no reservation or commit tried for the order can still
        land: a line that a commit took goes back on hand, any other is released."""
        skus = [line.sku for line in step.lines]
        applied = await self.applied(
            step.message_id,
            [
                *(line_id(key, sku) for key in step.reserve_keys for sku in skus),
                *(renew_id(key, sku) for key in step.commit_keys for sku in skus),
                *(line_id(key, sku) for key in step.commit_keys for sku in skus),
            ],
        )
        for line in step.lines:
            if not any(line_id(key, line.sku) in applied.ids for key in step.commit_keys):
                await self._release(step, [line], lambda sku: line_id(step.message_id, sku))
            elif not _returned(applied, line.sku):
                message_id = return_id(step.message_id, line.sku)
                returned = await self._line("ReturnStock", step, line, message_id, quantity=True)
                raise_unless_accepted(returned)

    @activity.defn(name="start_charge")
    async def start_charge(self, step: OrderStep) -> None:
        """Mark the order as being charged; refused (``order_cancelled``) if it was cancelled."""
        fields = {"order_id": step.order_id}
        await self._dispatch("StartOrderCharge", fields, step.message_id, step.correlation_id)

    async def _money(self, command: str, step: ChargeStep) -> None:
        fields = {"account_id": step.account_id, "amount": step.amount, "currency": step.currency}
        await self._dispatch(command, fields, step.message_id, step.correlation_id)

    @activity.defn(name="charge")
    async def charge(self, step: ChargeStep) -> None:
        """Withdraw the order's total from the customer's payment account."""
        await self._money("Withdraw", step)

    @activity.defn(name="refund_charge")
    async def refund_charge(self, step: RefundStep) -> RefundResult:
        """Give the charge back, unless nothing was charged, it was refunded, or the order
        was fulfilled after all (a commit applied every line; only its report was lost)."""
        commits = [[line_id(key, sku) for sku in step.skus] for key in step.commit_keys]
        applied = await self.applied(step.message_id, [*step.charge_keys, *chain(*commits)])
        if applied.step("refund_charge"):
            return "already_refunded"
        if any(ids and applied.ids.issuperset(ids) for ids in commits):
            return "stock_committed"
        if not applied.step("charge"):
            return "nothing_charged"
        await self._money("Deposit", step)
        return "refunded"

    @activity.defn(name="commit_stock")
    async def commit_stock(self, step: StockStep) -> None:
        """Renew every line's reservation, then commit each: all are held before any is taken.

        A renewal refused (the hold lapsed and the stock went to another order)
        is the refusal ``reservation_expired``, with the catalog's reason.
        """
        for line in step.lines:
            renewed = await self._line(
                "ReserveStock", step, line, renew_id(step.message_id, line.sku), quantity=True
            )
            if renewed.status == "rejected":
                raise ApplicationError(
                    f"{RESERVATION_EXPIRED}: {line.sku}: "
                    f"{renewed.error_code}: {renewed.error_message}",
                    RESERVATION_EXPIRED,
                    type=REFUSED,
                    non_retryable=True,
                )
            raise_unless_accepted(renewed)
        for line in step.lines:
            committed = await self._line(
                "CommitStock", step, line, line_id(step.message_id, line.sku), quantity=True
            )
            raise_unless_accepted(committed)

    @activity.defn(name="record_order_outcome")
    async def record_order_outcome(self, step: OrderOutcome) -> None:
        """Record where the order's saga stands on the order (completed confirms it)."""
        fields = {"order_id": step.order_id, "state": step.state, "reason": step.reason}
        await self._dispatch("RecordOrderOutcome", fields, step.message_id, step.correlation_id)


def _returned(applied: Applied, sku: str) -> bool:
    """Whether an attempt of ``release_stock`` returned ``sku`` already: under an earlier
    key (a refused attempt's), a ReturnStock again would put its units back twice."""
    prefix = f"{applied.saga}/release_stock/"
    return any(i.startswith(prefix) and i.endswith(f"/return/{sku}") for i in applied.ids)
