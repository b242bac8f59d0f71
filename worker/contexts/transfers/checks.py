"""Transfer rules: each transfer's steps moved the right money, and none lost its saga id.

A saga's steps are ordinary account commands whose message ids are the saga's
step keys (``transfer-<id>/withdraw/1``), and every account event records the
message id that caused it: so the accounts' event record says what each
transfer moved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from worker.contexts.accounts.published import DEPOSITED, WITHDRAWN, EventFacts
from worker.contexts.transfers.checks_facts import CONFLICTED, FINAL, TransferFacts, saga_step
from worker.ops.check.facts import Violation, money_text

#: The one move each step may make: (account side, event type).
STEP_MOVES = {
    "withdraw": ("from", WITHDRAWN),
    "deposit": ("to", DEPOSITED),
    "refund": ("from", DEPOSITED),
}


@dataclass
class Moved:
    """What a transfer's steps did, by step, and any move no step should make."""

    by_step: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    stray: list[str] = field(default_factory=list)

    @property
    def in_flight(self) -> Decimal:
        """Withdrawn and neither deposited nor refunded yet."""
        return self.by_step["withdraw"] - self.by_step["deposit"] - self.by_step["refund"]

    def text(self, currency: str) -> str:
        return ", ".join(
            f"{step} {money_text(self.by_step[step], currency)}" for step in STEP_MOVES
        )


@dataclass
class TransfersVerdict:
    violations: list[Violation] = field(default_factory=list)
    checked: int = 0
    #: Transfers touching an account whose event record was partly swept.
    not_verifiable: set[str] = field(default_factory=set)
    waiting_to_start: set[str] = field(default_factory=set)
    #: By currency: withdrawn by unfinished transfers, not deposited or refunded yet.
    in_flight: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    #: By currency: what the steps of transfers resolved by hand left moved.
    settled_by_hand: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))


def tally(transfer: TransferFacts, events: Iterable[EventFacts]) -> Moved:
    moved = Moved()
    accounts = {"from": transfer.from_account_id, "to": transfer.to_account_id}
    for event in events:
        step = step_key[1] if (step_key := saga_step(event)) else ""
        side, kind = STEP_MOVES.get(step, ("", ""))
        if event.amount is None:
            continue
        if accounts.get(side) == event.account_id and event.event_type == kind:
            moved.by_step[step] += event.amount
        else:
            moved.stray.append(
                f"{event.name} of {money_text(event.amount, transfer.currency)} on "
                f"{event.account_id} by {event.causation_id}"
            )
    return moved


def money_problem(transfer: TransferFacts, moved: Moved) -> str | None:
    """What is wrong with what a transfer's steps moved, given how it stands."""
    if moved.stray:
        return f"unexpected moves: {'; '.join(moved.stray[:5])}"
    amount, state, step = transfer.amount, transfer.state, moved.by_step
    whole = step["withdraw"] == step["deposit"] == amount and not step["refund"]
    if state == "completed" and not whole:
        expected = f"{money_text(amount, transfer.currency)} withdrawn and deposited"
    elif state in {"rejected", "compensated", CONFLICTED} and (step["deposit"] or moved.in_flight):
        expected = "nothing left moved (a refund returns the withdrawal)"
    elif state not in FINAL and not 0 <= moved.in_flight <= amount:
        expected = f"at most {money_text(amount, transfer.currency)} in flight"
    else:
        return None
    return f"{state}: expected {expected}, but its steps moved {moved.text(transfer.currency)}"


def _conflict(transfer: TransferFacts) -> Violation:
    held_by = transfer.reason or "no reason recorded"
    detail = f"its saga id is held by another request's run, no money moved: {held_by}"
    return Violation("saga_conflict", transfer.transfer_id, detail)


def check_transfers(
    transfers: Iterable[TransferFacts],
    events: Iterable[EventFacts],
    verified_accounts: set[str],
    dead_sagas: Mapping[str, str],
) -> TransfersVerdict:
    """Money moved by each transfer's steps; ``dead_sagas``: why a saga is not live, by id."""
    by_transfer: defaultdict[str, list[EventFacts]] = defaultdict(list)
    for event in events:
        if (step_key := saga_step(event)) is not None and event.amount is not None:
            by_transfer[step_key[0]].append(event)
    verdict = TransfersVerdict()
    for transfer in transfers:
        verdict.checked += 1
        tid = transfer.transfer_id
        if tid in dead_sagas:
            verdict.violations.append(Violation("transfer_without_saga", tid, dead_sagas[tid]))
        if transfer.state == CONFLICTED:
            verdict.violations.append(_conflict(transfer))
        if transfer.state == "requested" and transfer.start_pending:
            verdict.waiting_to_start.add(tid)
        if not {transfer.from_account_id, transfer.to_account_id} <= verified_accounts:
            verdict.not_verifiable.add(tid)
            by_transfer.pop(tid, None)
            continue
        moved = tally(transfer, by_transfer.pop(tid, []))
        problem = money_problem(transfer, moved)
        if problem is not None:
            verdict.violations.append(Violation("money_not_conserved", tid, problem))
        if transfer.state == "resolved":
            verdict.settled_by_hand[transfer.currency] -= moved.in_flight
        elif transfer.state not in FINAL:
            verdict.in_flight[transfer.currency] += moved.in_flight
    for tid in sorted(by_transfer):
        verdict.violations.append(
            Violation("money_not_conserved", tid, "saga steps moved money for no such transfer")
        )
    return verdict
