"""The order saga: all it writes is its business process, on the saga base."""

from __future__ import annotations

from temporalio import workflow

from workflows.saga.base import Saga

with workflow.unsafe.imports_passed_through():
    from tests.workflows.orders import (
        ChargeStep,
        OrderInput,
        OrderOutcome,
        OrderStatus,
        RefundChargeStep,
        StockStep,
    )
    from workflows.saga.types import SagaState


@workflow.defn(name="OrderSaga")
class OrderSaga(Saga):
    """Reserve the stock, charge the account; undone by a refund and a release."""

    OUTCOME_ACTIVITY = "record_order_outcome"

    @workflow.run
    async def run(self, order: OrderInput) -> OrderStatus:
        self._order = order
        return await self.run_saga(OrderStatus(order_id=order.order_id), self._place)

    async def _place(self) -> None:
        await self.step("reserve_stock", self._stock, undo=self._release)
        await self.step("charge", self._charge, undo=self._refund)

    async def _release(self) -> None:
        await self.undo_step("release_stock", self._stock)

    async def _refund(self) -> None:
        await self.undo_step("refund_charge", self._refund_charge)

    def _stock(self, key: str) -> StockStep:
        return StockStep(sku=self._order.sku, quantity=self._order.quantity, message_id=key)

    def _charge(self, key: str) -> ChargeStep:
        return ChargeStep(
            account_id=self._order.account_id, amount=self._order.amount, message_id=key
        )

    def _refund_charge(self, key: str) -> RefundChargeStep:
        charges = self.steps.keys_used("charge")
        return RefundChargeStep(**self._charge(key).model_dump(), charge_message_ids=charges)

    def describe(self) -> str:
        o = self._order
        return f"Order **{o.quantity} x {o.sku}** for `{o.account_id}`"

    def outcome(self, state: SagaState, reason: str, message_id: str) -> OrderOutcome:
        order_id = self._order.order_id
        return OrderOutcome(order_id=order_id, state=state, reason=reason, message_id=message_id)
