"""A hand-written in-memory :class:`CommandDispatcher`: the seam the real bus adapter fills.

It mimics what the saga relies on in the real bus: an inbox that applies each
message id once and repeats its recorded outcome, business refusals
(``insufficient_funds``, ``account_closed``), and transient failures that
Temporal retries. Its faults, refusals and inbox serve the order saga's shop too
(``order_fakes.py``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from temporalio.exceptions import ApplicationError

from workflows.saga.types import DispatchResult

ACCEPTED = DispatchResult(status="accepted")


def refusal(code: str, message: str) -> DispatchResult:
    return DispatchResult(status="rejected", error_code=code, error_message=message)


@dataclass
class Fault:
    """Make ``command`` (on ``subject``, if given: an account, a sku) raise ``RuntimeError``.

    ``times=None`` fails forever. ``after_apply`` commits the command first and
    then fails, like a reply lost after the transaction committed.
    """

    command: str
    subject: str | None = None
    times: int | None = None
    after_apply: bool = False
    #: Raise a non-retryable ``ApplicationError`` (not a refusal) instead: it stands for
    #: a step whose retry budget is spent, without waiting through the real backoff.
    exhausted: bool = False
    raised: int = 0

    def matches(self, command: str, subject: str | None) -> bool:
        return (
            command == self.command
            and self.subject in (None, subject)
            and (self.times is None or self.raised < self.times)
        )

    def fire(self, message_id: str) -> None:
        self.raised += 1
        message = f"transient failure #{self.raised} of {self.command} ({message_id})"
        if self.exhausted:
            raise ApplicationError(message, type="Unavailable", non_retryable=True)
        raise RuntimeError(message)


class Inbox:
    """The idempotent inbox a fake keeps (each message id applied once, its outcome
    repeated after), and what it answers besides ``dispatch``."""

    inbox: dict[str, DispatchResult]
    #: (command, subject, message_id) of every call, failed ones too.
    calls: list[tuple[str, str, str]]

    def commands(self, command: str) -> list[tuple[str, str, str]]:
        return [call for call in self.calls if call[0] == command]

    async def settle(self, message_ids: list[str]) -> dict[str, str]:
        for message_id in message_ids:
            self.inbox.setdefault(message_id, refusal("superseded", "late"))
        return {message_id: self.inbox[message_id].status for message_id in message_ids}

    async def recorded_with_prefix(self, prefix: str) -> dict[str, str]:
        return {k: v.status for k, v in self.inbox.items() if k.startswith(prefix)}


@dataclass
class FakeDispatcher(Inbox):
    """An in-memory ledger of balances behind an idempotent inbox."""

    balances: dict[str, Decimal] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)
    #: Accounts closed as soon as a withdrawal from them is applied.
    close_after_withdrawal: set[str] = field(default_factory=set)
    inbox: dict[str, DispatchResult] = field(default_factory=dict)
    #: (transfer_id, state, reason) of every RecordTransferOutcome applied.
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)
    #: (command, account_id or transfer_id, message_id) of every call, failed ones too.
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    #: (command, account_id) -> event the command waits for before it is handled.
    gates: dict[tuple[str, str], asyncio.Event] = field(default_factory=dict)
    #: Set when a gated command has reached its gate.
    gate_reached: dict[tuple[str, str], asyncio.Event] = field(default_factory=dict)

    @classmethod
    def with_accounts(cls, **balances: str) -> FakeDispatcher:
        return cls(balances={account: Decimal(amount) for account, amount in balances.items()})

    # --- switches --------------------------------------------------------------------

    def fail(
        self,
        command: str,
        *,
        account_id: str | None = None,
        times: int | None = None,
        after_apply: bool = False,
        exhausted: bool = False,
    ) -> Fault:
        fault = Fault(command, account_id, times, after_apply, exhausted)
        self.faults.append(fault)
        return fault

    def heal(self) -> None:
        self.faults.clear()

    def gate(self, command: str, account_id: str) -> asyncio.Event:
        """Hold ``command`` on ``account_id`` until the returned event is set."""
        release = asyncio.Event()
        self.gates[command, account_id] = release
        self.gate_reached[command, account_id] = asyncio.Event()
        return release

    # --- what tests look at ----------------------------------------------------------

    def balance(self, account_id: str) -> Decimal:
        return self.balances[account_id]

    # --- CommandDispatcher -----------------------------------------------------------

    async def dispatch(
        self, command: str, fields: dict[str, Any], message_id: str, correlation_id: str | None
    ) -> DispatchResult:
        subject = fields.get("account_id") or fields.get("transfer_id", "")
        self.calls.append((command, subject, message_id))
        if (command, subject) in self.gates:
            self.gate_reached[command, subject].set()
            await self.gates[command, subject].wait()
        account_id = fields.get("account_id")
        fault = next((f for f in self.faults if f.matches(command, account_id)), None)
        if fault is not None and not fault.after_apply:
            fault.fire(message_id)
        if message_id in self.inbox:
            result = self.inbox[message_id]
        else:
            result = self._apply(command, fields)
            self.inbox[message_id] = result
        if fault is not None:
            fault.fire(message_id)
        return result

    # --- the "domain" ----------------------------------------------------------------

    def _apply(self, command: str, fields: dict[str, Any]) -> DispatchResult:
        if command == "RecordTransferOutcome":
            self.outcomes.append((fields["transfer_id"], fields["state"], fields["reason"]))
            return ACCEPTED
        account, amount = fields["account_id"], Decimal(fields["amount"])
        if account not in self.balances:
            return refusal("account_not_found", f"no account {account}")
        if account in self.closed:
            return refusal("account_closed", f"account {account} is closed")
        if command == "Withdraw":
            if self.balances[account] < amount:
                return refusal(
                    "insufficient_funds", f"{account} holds {self.balances[account]} < {amount}"
                )
            self.balances[account] -= amount
            if account in self.close_after_withdrawal:
                self.closed.add(account)
            return ACCEPTED
        if command == "Deposit":
            self.balances[account] += amount
            return ACCEPTED
        return DispatchResult(status="invalid", error_code="unknown_command", error_message=command)
