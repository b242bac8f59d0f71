"""The order saga. Deterministic: no I/O here, only activities, timers and state."""

from __future__ import annotations

from temporalio import workflow

from workflows.saga.base import Saga

with workflow.unsafe.imports_passed_through():
    from workflows.orders.shared import (
        WORKFLOW_NAME,
        ChargeStep,
        OrderInput,
        OrderOutcome,
        OrderStatus,
        OrderStep,
        RefundStep,
        ReleaseStep,
        StockStep,
    )
    from workflows.saga.types import SagaState


@workflow.defn(name=WORKFLOW_NAME)
class OrderSaga(Saga):
    """Reserve the stock, mark the charge, charge the customer, commit the stock.

    A refusal undoes what was done: released stock, refunded charge. A refused
    reservation ends *rejected*; any later refusal (the order cancelled before its
    charge, the charge refused, the reservation expired and its stock gone) ends
    *compensated*, which the order records as cancelled or rejected. A commit that
    keeps failing (committed stock cannot be released) and a compensation that
    cannot succeed wait in *needs_operator* for ``retry``, ``compensate`` or ``resolve``.
    """

    OUTCOME_ACTIVITY = "record_order_outcome"

    @workflow.run
    async def run(self, order: OrderInput) -> OrderStatus:
        self._order = order
        return await self.run_saga(OrderStatus(order_id=order.order_id), self._place)

    async def _place(self) -> None:
        await self.step("reserve_stock", self._stock, undo=self._release)
        await self.step("start_charge", self._order_step)
        await self.step("charge", self._charge, undo=self._refund)
        await self.step("commit_stock", self._stock, when_failing="ask_operator")

    async def _release(self) -> None:
        await self.undo_step("release_stock", self._release_step)

    async def _refund(self) -> SagaState | None:
        result = await self.undo_step("refund_charge", self._refund_step, result_type=str)
        if result == "stock_committed":
            return SagaState.COMPLETED  # the commit did happen, only its report was lost
        if result != "refunded":
            self.steps.record("refund_charge", "skipped", detail=result.replace("_", " "))
        return None

    def _order_step(self, key: str) -> OrderStep:
        o = self._order
        return OrderStep(order_id=o.order_id, message_id=key, correlation_id=o.correlation_id)

    def _stock(self, key: str) -> StockStep:
        return StockStep(**self._order_step(key).model_dump(), lines=self._order.lines)

    def _release_step(self, key: str) -> ReleaseStep:
        return ReleaseStep(
            **self._stock(key).model_dump(),
            reserve_keys=self.steps.keys_used("reserve_stock"),
            commit_keys=self.steps.keys_used("commit_stock"),
        )

    def _charge(self, key: str) -> ChargeStep:
        o = self._order
        return ChargeStep(
            **self._order_step(key).model_dump(),
            account_id=o.payment_account_id,
            amount=o.total,
            currency=o.currency,
        )

    def _refund_step(self, key: str) -> RefundStep:
        return RefundStep(
            **self._charge(key).model_dump(),
            charge_keys=self.steps.keys_used("charge"),
            commit_keys=self.steps.keys_used("commit_stock"),
            skus=[line.sku for line in self._order.lines],
        )

    def describe(self) -> str:
        o = self._order
        lines = f"{len(o.lines)} line{'' if len(o.lines) == 1 else 's'}"
        return f"Order `{o.order_id}`: **{lines}, {o.total} {o.currency}** for `{o.customer_id}`"

    def outcome(self, state: SagaState, reason: str, message_id: str) -> OrderOutcome:
        o = self._order
        return OrderOutcome(
            order_id=o.order_id,
            state=state.value,
            reason=reason,
            message_id=message_id,
            correlation_id=o.correlation_id,
        )
