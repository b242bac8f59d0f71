"""The money invariant, from the event record: balances, transfers, and the grand total.

- Each account's balance is the sum of its own deposit and withdrawal events, and
  its events are versions 1..N with N its version (no lost update, nothing stale).
- A transfer moves money only through its saga's steps (message ids
  ``transfer-<id>/<step>/<n>``): once it ended, what its steps withdrew came back
  (refund) or arrived (deposit); while it waits (``needs_operator``, or running)
  at most its amount is on the way.
- The sum of all balances is what accepted deposits brought in minus what accepted
  withdrawals took out, minus what is on the way in transfers.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from tests.faults.observe import Event, Snapshot

DEPOSITED = "accounts.MoneyDeposited"
WITHDRAWN = "accounts.MoneyWithdrawn"
ENDED = frozenset({"completed", "rejected", "compensated", "resolved"})


def signed(event: Event) -> Decimal:
    amount = event.amount or Decimal(0)
    return {DEPOSITED: amount, WITHDRAWN: -amount}.get(event.type, Decimal(0))


def account_violations(snapshot: Snapshot) -> list[str]:
    events: defaultdict[str, list[Event]] = defaultdict(list)
    for event in snapshot.events:
        if event.type.startswith("accounts."):
            events[event.aggregate_id].append(event)
    problems = []
    for account, (balance, version) in snapshot.balances.items():
        own = events.get(account, [])
        total = sum((signed(e) for e in own), Decimal(0))
        if total != balance:
            problems.append(f"account {account}: balance {balance} but its events sum to {total}")
        versions = sorted(e.version for e in own)
        if versions != list(range(1, version + 1)):
            problems.append(f"account {account}: version {version} but event versions {versions}")
    return problems


def saga_steps(snapshot: Snapshot) -> dict[str, list[tuple[str, Event]]]:
    """Money events caused by saga steps, by transfer id: (step, event)."""
    steps: defaultdict[str, list[tuple[str, Event]]] = defaultdict(list)
    for event in snapshot.events:
        cause = event.causation_id or ""
        if event.type in (DEPOSITED, WITHDRAWN) and cause.startswith("transfer-"):
            transfer_id, step, _ = cause.removeprefix("transfer-").split("/", 2)
            steps[transfer_id].append((step, event))
    return steps


def transfer_violations(snapshot: Snapshot) -> tuple[list[str], Decimal]:
    """Problems with transfers, and the money their sagas have on the way."""
    problems: list[str] = []
    on_the_way = Decimal(0)
    steps = saga_steps(snapshot)
    for transfer_id, row in snapshot.transfers.items():
        state, amount = row.state, row.amount
        moved = steps.get(transfer_id, [])
        net = sum((signed(event) for _, event in moved), Decimal(0))
        names = sorted(step for step, _ in moved)
        if state in ENDED - {"resolved"} and net != 0:
            problems.append(f"transfer {transfer_id} ended {state} but moved {net} ({names})")
        if state == "completed" and names != ["deposit", "withdraw"]:
            problems.append(f"transfer {transfer_id} completed with steps {names}")
        if state not in ENDED and net not in (0, -amount):
            problems.append(f"transfer {transfer_id} ({state}) has {net} on the way")
        on_the_way -= net
    return problems, on_the_way


def total_violations(snapshot: Snapshot, accepted_net: Decimal, on_the_way: Decimal) -> list[str]:
    balances = sum((balance for balance, _ in snapshot.balances.values()), Decimal(0))
    if balances + on_the_way == accepted_net:
        return []
    return [
        f"money: balances sum to {balances}, {on_the_way} on the way in transfers, but "
        f"accepted deposits minus withdrawals are {accepted_net}"
    ]


def money_violations(snapshot: Snapshot, accepted_net: Decimal) -> list[str]:
    transfers, on_the_way = transfer_violations(snapshot)
    return [
        *account_violations(snapshot),
        *transfers,
        *total_violations(snapshot, accepted_net, on_the_way),
    ]
