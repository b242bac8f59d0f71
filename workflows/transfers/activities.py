"""The saga's activities: each dispatches one command through the bus, idempotently."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.shared.errors import FailureClass
from workflows.saga.types import CommandDispatcher, DispatchResult
from workflows.transfers.shared import MoneyStep, OutcomeStep, RefundResult, RefundStep

#: The error type of every business refusal, which the workflow never retries.
REFUSED = "BusinessRefusal"
#: A command the bus found malformed: a bug in the saga, never taken for a refusal.
INVALID = "InvalidCommand"


def _raise_unless_accepted(result: DispatchResult) -> None:
    """Refusals and malformed commands end the step; whatever the bus raised is retried.

    Transient failures, conflicts and bugs escape ``dispatch`` as exceptions, which
    Temporal retries under the step's retry policy (the failure policy's
    ``retryable`` classes); only the two final answers stop here.
    """
    if result.status == "accepted":
        return
    failure = FailureClass.REJECTED if result.status == "rejected" else FailureClass.INVALID
    raise ApplicationError(
        f"{result.error_code}: {result.error_message}",
        result.error_code,
        type=REFUSED if failure is FailureClass.REJECTED else INVALID,
        non_retryable=not failure.retryable,
    )


def _keys_of(recorded: dict[str, str], prefix: str) -> set[str]:
    return {key for key in recorded if key.startswith(prefix)}


class TransferActivities:
    """Activities receive the bus through their constructor; they hold no other state.

    Each call carries a message id derived from the workflow id and the step, so
    a retried activity finds its earlier outcome in the inbox instead of moving
    money twice.
    """

    def __init__(self, dispatcher: CommandDispatcher) -> None:
        self._dispatcher = dispatcher

    async def _money(self, command: str, step: MoneyStep) -> None:
        fields = {"account_id": step.account_id, "amount": step.amount, "currency": step.currency}
        result = await self._dispatcher.dispatch(
            command, fields, step.message_id, step.correlation_id
        )
        _raise_unless_accepted(result)

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
        saga = step.message_id.rsplit("/", 2)[0]
        recorded = await self._dispatcher.recorded_with_prefix(f"{saga}/")
        if any(
            key.startswith(f"{saga}/refund/") and status == "accepted"
            for key, status in recorded.items()
        ):
            return "refunded"  # an earlier run refunded already
        settled = await self._dispatcher.settle(
            [*step.deposit_message_ids, *step.withdrawal_message_ids]
        )
        accepted = {key for key, status in {**recorded, **settled}.items() if status == "accepted"}
        if accepted & {*step.deposit_message_ids, *_keys_of(recorded, f"{saga}/deposit/")}:
            return "deposit_applied"
        if not accepted & {*step.withdrawal_message_ids, *_keys_of(recorded, f"{saga}/withdraw/")}:
            return "nothing_withdrawn"
        await self._money("Deposit", step)
        return "refunded"

    @activity.defn(name="record_outcome")
    async def record_outcome(self, step: OutcomeStep) -> None:
        """Record where the transfer stands on its aggregate (and so in the outbox)."""
        fields = {"transfer_id": step.transfer_id, "state": step.state, "reason": step.reason}
        result = await self._dispatcher.dispatch(
            "RecordTransferOutcome", fields, step.message_id, step.correlation_id
        )
        _raise_unless_accepted(result)
