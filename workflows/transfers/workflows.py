"""The transfer saga. Deterministic: no I/O here, only activities, timers and state."""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow

from workflows.saga.base import Saga

with workflow.unsafe.imports_passed_through():
    from workflows.saga.types import SagaState
    from workflows.transfers.shared import (
        WORKFLOW_NAME,
        MoneyStep,
        OutcomeStep,
        RefundStep,
        TransferInput,
        TransferStatus,
    )


@workflow.defn(name=WORKFLOW_NAME)
class TransferSaga(Saga):
    """Withdraw from the source, deposit to the destination, record the outcome.

    A refused withdrawal ends *rejected*. A deposit that is refused or keeps
    failing is compensated by a refund (*compensated*). A refund that cannot
    succeed, or a withdrawal that keeps failing, waits in *needs_operator* for
    an operator's ``retry``, ``compensate`` or ``resolve`` update.
    """

    @workflow.run
    async def run(self, transfer: TransferInput) -> TransferStatus:
        self._transfer = transfer
        status = TransferStatus(transfer_id=transfer.transfer_id)
        return await self.run_saga(status, self._transfer_money)

    async def _transfer_money(self) -> None:
        t = self._transfer
        withdraw, deposit = self._money(t.from_account_id), self._money(t.to_account_id)
        await self.step("withdraw", withdraw, undo=self._refund, when_failing="ask_operator")
        await self.step("deposit", deposit)

    async def _refund(self) -> SagaState | None:
        result = await self.undo_step("refund", self._refund_step, result_type=str)
        if result == "deposit_applied":
            return SagaState.COMPLETED  # the deposit did happen, only its report was lost
        if result == "nothing_withdrawn":
            self.steps.record("refund", "skipped", detail="no withdrawal was applied")
        return None

    def _money(self, account_id: str) -> Callable[[str], MoneyStep]:
        t = self._transfer

        def build(key: str) -> MoneyStep:
            return MoneyStep(
                account_id=account_id,
                amount=t.amount,
                currency=t.currency,
                message_id=key,
                correlation_id=t.correlation_id,
            )

        return build

    def _refund_step(self, key: str) -> RefundStep:
        return RefundStep(
            **self._money(self._transfer.from_account_id)(key).model_dump(),
            withdrawal_message_ids=self.steps.keys_used("withdraw"),
            deposit_message_ids=self.steps.keys_used("deposit"),
        )

    def describe(self) -> str:
        t = self._transfer
        money = f"**{t.amount} {t.currency}**"
        return f"Transfer {money} from `{t.from_account_id}` to `{t.to_account_id}`"

    def outcome(self, state: SagaState, reason: str, message_id: str) -> OutcomeStep:
        return OutcomeStep(
            transfer_id=self._transfer.transfer_id,
            state=state.value,
            reason=reason,
            message_id=message_id,
            correlation_id=self._transfer.correlation_id,
        )
