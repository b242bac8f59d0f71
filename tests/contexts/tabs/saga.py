"""The settlement saga: charge the guest, credit the house; a failed credit refunds the guest.

Its steps are the accounts context's own commands (Withdraw, Deposit), dispatched
through the bus by name: this context imports nothing of the accounts context.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import activity, workflow

from workflows.saga.activities import CommandActivities
from workflows.saga.base import Saga

with workflow.unsafe.imports_passed_through():
    from tests.contexts.tabs.saga_types import (
        WORKFLOW_NAME,
        MoneyStep,
        OutcomeStep,
        RefundResult,
        RefundStep,
        TabInput,
        TabStatus,
    )
    from workflows.saga.types import SagaState


@workflow.defn(name=WORKFLOW_NAME)
class TabSettlementSaga(Saga):
    OUTCOME_ACTIVITY = "record_tab_outcome"

    @workflow.run
    async def run(self, tab: TabInput) -> TabStatus:
        self._tab = tab
        return await self.run_saga(TabStatus(tab_id=tab.tab_id), self._settle)

    async def _settle(self) -> None:
        tab = self._tab
        await self.step("tab_charge", self._money(tab.account_id), undo=self._refund)
        await self.step("tab_credit", self._money(tab.house_account_id))

    async def _refund(self) -> SagaState | None:
        result = await self.undo_step("tab_refund", self._refund_step, result_type=str)
        if result == "credit_applied":
            return SagaState.COMPLETED  # the credit did happen, only its report was lost
        return None

    def _money(self, account_id: str) -> Callable[[str], MoneyStep]:
        tab = self._tab

        def build(key: str) -> MoneyStep:
            return MoneyStep(
                account_id=account_id,
                amount=tab.total,
                currency=tab.currency,
                message_id=key,
                correlation_id=tab.correlation_id,
            )

        return build

    def _refund_step(self, key: str) -> RefundStep:
        return RefundStep(
            **self._money(self._tab.account_id)(key).model_dump(),
            charge_message_ids=self.steps.keys_used("tab_charge"),
            credit_message_ids=self.steps.keys_used("tab_credit"),
        )

    def describe(self) -> str:
        t = self._tab
        return f"Tab `{t.tab_id}`: **{t.total} {t.currency}** from `{t.account_id}`"

    def outcome(self, state: SagaState, reason: str, message_id: str) -> OutcomeStep:
        t = self._tab
        return OutcomeStep(
            tab_id=t.tab_id,
            state=state.value,
            reason=reason,
            message_id=message_id,
            correlation_id=t.correlation_id,
        )


class TabActivities(CommandActivities):
    async def _money(self, command: str, step: MoneyStep) -> None:
        fields = {"account_id": step.account_id, "amount": step.amount, "currency": step.currency}
        await self._dispatch(command, fields, step.message_id, step.correlation_id)

    @activity.defn(name="tab_charge")
    async def charge(self, step: MoneyStep) -> None:
        await self._money("Withdraw", step)

    @activity.defn(name="tab_credit")
    async def credit(self, step: MoneyStep) -> None:
        await self._money("Deposit", step)

    @activity.defn(name="tab_refund")
    async def refund(self, step: RefundStep) -> RefundResult:
        """Give the guest the charge back, once no attempt of the charge or credit can apply."""
        settled = await self._dispatcher.settle(
            [*step.credit_message_ids, *step.charge_message_ids]
        )
        if any(settled.get(key) == "accepted" for key in step.credit_message_ids):
            return "credit_applied"
        if not any(settled.get(key) == "accepted" for key in step.charge_message_ids):
            return "nothing_charged"
        await self._money("Deposit", step)
        return "refunded"

    @activity.defn(name="record_tab_outcome")
    async def record_outcome(self, step: OutcomeStep) -> None:
        fields = {"tab_id": step.tab_id, "status": step.state, "reason": step.reason}
        await self._dispatch("RecordTabOutcome", fields, step.message_id, step.correlation_id)
