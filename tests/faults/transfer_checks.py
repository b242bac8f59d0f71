"""Transfers: each accepted request made exactly one transfer, as planned, which ended as planned.

Every planned transfer id is fresh, so an accepted TransferMoney must have caused
its own TransferRequested event, unless another planned message carries the same
transfer id (a repeat, which changes nothing). Transfers between funded accounts
must end ``completed``, planned refusals ``rejected`` (or ``compensated``): a saga
left in ``needs_operator`` is at rest, but it is not an end any scenario plans.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from tests.faults.observe import Snapshot
from tests.faults.traffic import Ledger, Planned

TRANSFER = "TransferMoney"
REQUESTED = "transfers.TransferRequested"
ENDED = frozenset({"completed", "rejected", "compensated", "resolved"})
#: Where a saga rests: waiting longer changes nothing (needs_operator waits for a person).
AT_REST = ENDED | {"needs_operator"}


def transfer_id(message: Planned) -> str:
    return str(message.body_json["transfer_id"])


def repeated_ids(ledger: Ledger) -> set[str]:
    """Transfer ids that more than one planned message carries."""
    counts = Counter(transfer_id(m) for m in ledger.planned.values() if m.command == TRANSFER)
    return {tid for tid, n in counts.items() if n > 1}


def request_problems(message: Planned, snapshot: Snapshot, repeated: set[str]) -> list[str]:
    """An accepted TransferMoney: one TransferRequested (none only for a repeat), and a
    transfers row with the planned accounts and amount."""
    fields = message.body_json
    tid = transfer_id(message)
    caused = snapshot.effects.get(message.message_id or "", [])
    requested = [e for e in caused if e.type == REQUESTED and e.aggregate_id == tid]
    problems = []
    if len(requested) > 1 or (not requested and tid not in repeated):
        problems.append(f"{message.ref}: transfer {tid} accepted, {len(requested)} requested")
    planned = (fields["from_account_id"], fields["to_account_id"], Decimal(fields["amount"]))
    row = snapshot.transfers.get(tid)
    if row is None:
        problems.append(f"{message.ref}: transfer {tid} accepted, yet it does not exist")
    elif (row.source, row.target, row.amount) != planned:
        found = (row.source, row.target, row.amount)
        problems.append(f"transfer {tid} is {found}, planned {planned}")
    return problems


def end_problems(message: Planned, snapshot: Snapshot) -> list[str]:
    """A transfer at rest in another state than planned (any end, when none was planned)."""
    tid = transfer_id(message)
    row = snapshot.transfers.get(tid)
    wanted = {message.ends} if message.ends else ENDED
    if row is None or row.state not in AT_REST or row.state in wanted:
        return []
    return [f"transfer {tid} ended {row.state}, planned {message.ends or 'an end'}"]


def unasked_transfers(ledger: Ledger, snapshot: Snapshot) -> list[str]:
    asked = {transfer_id(m) for m in ledger.planned.values() if m.command == TRANSFER}
    return [
        f"transfer {tid}: no planned message asked for it"
        for tid in snapshot.transfers.keys() - asked
    ]


def running(snapshot: Snapshot) -> list[str]:
    """Transfers whose saga is still under way."""
    return [tid for tid, row in snapshot.transfers.items() if row.state not in AT_REST]
