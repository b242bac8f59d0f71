"""A second context's saga for the saga base's tests: its inputs, activities and shop.

An order reserves stock, then charges an account; compensated by a refund of
the charge and a release of the stock. Only the workflow (``order_saga.py``) is
workflow code; this module is passed through the sandbox.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.saga.activities import CommandActivities
from workflows.saga.types import DispatchResult, SagaStatus

ACCEPTED = DispatchResult(status="accepted")


class OrderInput(BaseModel):
    order_id: str
    sku: str
    quantity: int
    account_id: str
    amount: str
    correlation_id: str | None = None


class OrderStatus(SagaStatus):
    order_id: str


class StockStep(BaseModel):
    sku: str
    quantity: int
    message_id: str


class ChargeStep(BaseModel):
    account_id: str
    amount: str
    message_id: str


class RefundChargeStep(ChargeStep):
    #: The charges tried: only one that was applied is refunded.
    charge_message_ids: list[str]


class OrderOutcome(BaseModel):
    order_id: str
    state: str
    reason: str
    message_id: str


class OrderActivities(CommandActivities):
    @activity.defn(name="reserve_stock")
    async def reserve_stock(self, step: StockStep) -> None:
        await self._dispatch("Reserve", _stock(step), step.message_id, None)

    @activity.defn(name="release_stock")
    async def release_stock(self, step: StockStep) -> None:
        await self._dispatch("Release", _stock(step), step.message_id, None)

    @activity.defn(name="charge")
    async def charge(self, step: ChargeStep) -> None:
        fields = {"account_id": step.account_id, "amount": step.amount}
        await self._dispatch("Charge", fields, step.message_id, None)

    @activity.defn(name="refund_charge")
    async def refund_charge(self, step: RefundChargeStep) -> None:
        charges = ",".join(step.charge_message_ids)
        fields = {"account_id": step.account_id, "amount": step.amount, "charges": charges}
        await self._dispatch("Refund", fields, step.message_id, None)

    @activity.defn(name="record_order_outcome")
    async def record_order_outcome(self, step: OrderOutcome) -> None:
        fields = {"order_id": step.order_id, "state": step.state, "reason": step.reason}
        await self._dispatch("RecordOrderOutcome", fields, step.message_id, None)


def _stock(step: StockStep) -> dict[str, str]:
    return {"sku": step.sku, "quantity": str(step.quantity)}


@dataclass
class Shop:
    """An in-memory stock and ledger behind an idempotent inbox, like the bus's."""

    stock: dict[str, int]
    balances: dict[str, Decimal]
    #: Commands refused (a business refusal), and commands out of retries.
    refusing: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)
    #: Command -> event it waits for before it is handled.
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    inbox: dict[str, DispatchResult] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)

    async def dispatch(
        self, command: str, fields: dict[str, str], message_id: str, correlation_id: str | None
    ) -> DispatchResult:
        self.calls.append((command, message_id))
        if command in self.gates:
            await self.gates[command].wait()
        if command in self.broken:  # out of retries, without waiting through the backoff
            raise ApplicationError(f"{command} is down", type="Unavailable", non_retryable=True)
        if message_id not in self.inbox:
            self.inbox[message_id] = self._apply(command, fields)
        return self.inbox[message_id]

    async def settle(self, message_ids: list[str]) -> dict[str, str]:
        return {key: self.inbox[key].status for key in message_ids if key in self.inbox}

    async def recorded_with_prefix(self, prefix: str) -> dict[str, str]:
        return {k: v.status for k, v in self.inbox.items() if k.startswith(prefix)}

    def commands(self) -> list[str]:
        return [command for command, _ in self.calls]

    def _apply(self, command: str, fields: dict[str, str]) -> DispatchResult:
        if command in self.refusing:
            return DispatchResult(status="rejected", error_code="refused", error_message=command)
        if command == "RecordOrderOutcome":
            self.outcomes.append((fields["order_id"], fields["state"], fields["reason"]))
        elif command in ("Reserve", "Release"):
            sign = -1 if command == "Reserve" else 1
            self.stock[fields["sku"]] += sign * int(fields["quantity"])
        elif command == "Charge":
            self.balances[fields["account_id"]] -= Decimal(fields["amount"])
        elif command == "Refund" and any(
            self.inbox.get(key) == ACCEPTED for key in fields["charges"].split(",")
        ):
            self.balances[fields["account_id"]] += Decimal(fields["amount"])
        return ACCEPTED
