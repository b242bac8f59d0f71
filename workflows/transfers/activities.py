"""The transfer saga's activities: each dispatches one command through the bus, idempotently."""

from __future__ import annotations

from temporalio import activity

from workflows.saga.activities import CommandActivities
from workflows.transfers.shared import MoneyStep, OutcomeStep, RefundResult, RefundStep


class TransferActivities(CommandActivities):
    """Withdraw, deposit, refund and record the outcome, through the bus it is given."""

    async def _money(self, command: str, step: MoneyStep) -> None:
        fields = {"account_id": step.account_id, "amount": step.amount, "currency": step.currency}
        await self._dispatch(command, fields, step.message_id, step.correlation_id)

    @activity.defn(name="withdraw")
    async def withdraw(self, step: MoneyStep) -> None:
        """Withdraw from the source account."""
        await self._money("Withdraw", step)

    @activity.defn(name="deposit")
    async def deposit(self, step: MoneyStep) -> None:
        """Deposit to the destination account."""
        await self._money("Deposit", step)

    @activity.defn(name="refund")
    async def refund(self, step: RefundStep) -> RefundResult:
        """Give the source its money back, unless nothing was withdrawn or the deposit did happen.

        Every check reads the inbox, because a step whose activity failed may still
        have committed; and the unapplied attempts are settled (recorded as
        superseded) first, so none of them can commit after the decision.
        """
        attempts = [*step.deposit_message_ids, *step.withdrawal_message_ids]
        applied = await self.applied(step.message_id, attempts)
        if applied.step("refund"):
            return "refunded"  # an earlier run refunded already
        if applied.step("deposit"):
            return "deposit_applied"
        if not applied.step("withdraw"):
            return "nothing_withdrawn"
        await self._money("Deposit", step)
        return "refunded"

    @activity.defn(name="record_outcome")
    async def record_outcome(self, step: OutcomeStep) -> None:
        """Record where the transfer stands on its aggregate (and so in the outbox)."""
        fields = {"transfer_id": step.transfer_id, "state": step.state, "reason": step.reason}
        await self._dispatch("RecordTransferOutcome", fields, step.message_id, step.correlation_id)
