"""The order saga. Deterministic: no I/O here, only activities, timers and state."""

from __future__ import annotations

import re

from temporalio import workflow

from workflows.saga.base import BY_AN_OPERATOR, Saga
from workflows.saga.operators import CANCELLED

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

#: A reason that starts with its code (``out_of_stock: …``), as every refusal's does.
CODED = re.compile(r"[a-z][a-z0-9_]*: ")


def coded(reason: str) -> str:
    """``reason`` starting with a code, as an order's reason does: a refusal's keeps its
    own; the base's other reasons (an operator's compensation, the saga cancelled, a
    step out of retries with its last error) get ``operator_compensated``,
    ``saga_cancelled`` and ``step_failed``."""
    if CODED.match(reason):
        return reason
    if reason.startswith(BY_AN_OPERATOR):
        return f"operator_compensated: {reason.removeprefix(BY_AN_OPERATOR)}"
    if reason == CANCELLED:
        return f"saga_cancelled: {reason}"
    return f"step_failed: {reason}"


@workflow.defn(name=WORKFLOW_NAME)
class OrderSaga(Saga):
    """Reserve the stock, mark the charge, charge the customer, commit the stock.

    A refusal undoes what was done: refunded charge, released stock (a line already
    committed is returned to stock). A refused reservation ends *rejected*; any later
    refusal (the order cancelled before its charge, the charge refused, the reservation
    expired and its stock gone) ends *compensated*, which the order records as cancelled
    or rejected, its reason starting with a code. A commit that keeps failing (it may
    have taken some lines, or all) and a compensation that cannot succeed wait in
    *needs_operator* for ``retry``, ``compensate`` or ``resolve``.
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
        """The order's reason starts with a code when the saga rejects or compensates it."""
        o = self._order
        if state in (SagaState.REJECTED, SagaState.COMPENSATED):
            reason = coded(reason)[: self.MAX_REASON]
        return OrderOutcome(
            order_id=o.order_id,
            state=state.value,
            reason=reason,
            message_id=message_id,
            correlation_id=o.correlation_id,
        )
