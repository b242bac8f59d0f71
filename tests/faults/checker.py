"""The checker: what became of every message the broker confirmed, and whether money adds up.

Each confirmed message is applied (its inbox row says accepted and exactly one
event records its effect), rejected (an inbox row, no effect), dead-lettered
(in a ``<queue>.dlq`` with an ``error-code``) or lost (none of these). A message
id with more than one effect was applied twice. Lost and applied twice must be 0.
An accepted transfer must exist as planned and end as planned (transfer_checks.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from decimal import Decimal

from tests.faults.broker import DeadLetter, read_broker, unacked_in
from tests.faults.environment import Environment
from tests.faults.money import money_violations
from tests.faults.observe import UNREACHABLE, Snapshot, read_database
from tests.faults.report import Report
from tests.faults.traffic import Ledger, Planned
from tests.faults.transfer_checks import (
    TRANSFER,
    end_problems,
    repeated_ids,
    request_problems,
    running,
    unasked_transfers,
)
from worker.config import parse_delays

EFFECTS = {
    "OpenAccount": "accounts.AccountOpened",
    "Deposit": "accounts.MoneyDeposited",
    "Withdraw": "accounts.MoneyWithdrawn",
    "FreezeAccount": "accounts.AccountFrozen",
    "UnfreezeAccount": "accounts.AccountUnfrozen",
    "CloseAccount": "accounts.AccountClosed",
    "TransferMoney": "transfers.TransferRequested",
}


def outcome_of(message: Planned, snapshot: Snapshot, dead: dict[str, DeadLetter]) -> str:
    """``accepted``, ``rejected:<code>``, ``dead:<code>`` or ``lost``."""
    recorded = snapshot.inbox.get(message.message_id or "")
    if recorded is not None:
        status, code = recorded
        return status if status == "accepted" else f"{status}:{code}"
    letter = dead.get(message.ref)
    if letter is not None:
        return f"dead:{letter.error_code}"
    return "lost"


def dead_letter_problems(ledger: Ledger, report: Report, dead: dict[str, DeadLetter]) -> list[str]:
    """A dead letter needs a reason, and a message that was handled has no business there."""
    problems = []
    for ref, letter in dead.items():
        if letter.error_code is None:
            problems.append(f"{ref} dead-lettered without an error-code")
        outcome = report.outcomes.get(ref, "")
        if ref in ledger.planned and not outcome.startswith(("dead", "lost")):
            problems.append(f"{ref} {outcome}, yet a copy is in {letter.queue}")
    return problems


def effect_problems(message: Planned, outcome: str, snapshot: Snapshot) -> list[str]:
    """The effect of an accepted message: its event, on its aggregate, for its amount.

    (An accepted transfer without its event is judged by ``request_problems``.)
    """
    kind = EFFECTS.get(message.command)
    caused = snapshot.effects.get(message.message_id or "", [])
    effects = [e for e in caused if e.type == kind]
    if outcome == "accepted" and not effects and message.command != TRANSFER:
        return [f"{message.ref} ({message.command}) accepted without its event"]
    if outcome != "accepted" and caused:
        return [f"{message.ref} ({message.command}) {outcome} yet caused {len(caused)} events"]
    if not effects:
        return []
    fields = message.body_json
    target = fields.get("account_id") or fields.get("transfer_id")
    if effects[0].aggregate_id != target:
        return [f"{message.ref} ({message.command}) hit {effects[0].aggregate_id}, not {target}"]
    if message.delta and effects[0].amount != abs(message.delta):
        return [f"{message.ref} moved {effects[0].amount}, not {abs(message.delta)}"]
    return []


def applied_twice(snapshot: Snapshot) -> list[str]:
    """Message ids (saga steps included) with two effects, and transfers requested twice."""
    per_cause = Counter((e.causation_id, e.type) for e in snapshot.events if e.causation_id)
    requested = Counter(
        e.aggregate_id for e in snapshot.events if e.type == "transfers.TransferRequested"
    )
    return [f"{cause} ({kind}) x{n}" for (cause, kind), n in per_cause.items() if n > 1] + [
        f"transfer {tid} requested x{n}" for tid, n in requested.items() if n > 1
    ]


def build_report(ledger: Ledger, snapshot: Snapshot, dead: dict[str, DeadLetter]) -> Report:
    report = Report(sent=len(ledger.confirmed), published=ledger.publishes)
    accepted_net = Decimal(0)
    repeated = repeated_ids(ledger)
    for message in ledger.sent():
        outcome = outcome_of(message, snapshot, dead)
        report.outcomes[message.ref] = outcome
        report.violations += effect_problems(message, outcome, snapshot)
        if outcome == "accepted" and message.command == TRANSFER:
            report.violations += request_problems(message, snapshot, repeated)
            report.unexpected += end_problems(message, snapshot)
        if message.expect is not None and outcome != message.expect and outcome != "lost":
            report.unexpected.append(f"{message.ref} {message.command}: {outcome}")
        if outcome == "accepted":
            accepted_net += message.delta
    report.violations += dead_letter_problems(ledger, report, dead)
    report.violations += unasked_transfers(ledger, snapshot)
    report.duplicated = applied_twice(snapshot)
    report.violations += money_violations(snapshot, accepted_net)
    report.unsettled = running(snapshot)
    report.unsent_events = snapshot.unsent
    return report


class Checker:
    """Reads the scenario's database and drains its DLQs (keeping what it took)."""

    def __init__(self, env: Environment, ledger: Ledger) -> None:
        self._env = env
        self._ledger = ledger
        self._delays = parse_delays(env.settings.get("RETRY_DELAYS", ""))
        self.dead: dict[str, DeadLetter] = {}

    async def report(self) -> Report:
        letters, waiting = await read_broker(self._env.amqp_url, self._delays)
        for letter in letters:
            key = letter.ref or letter.message_id or f"anonymous-{len(self.dead)}"
            self.dead[key] = letter
        snapshot = await read_database(self._env.database_url)
        report = build_report(self._ledger, snapshot, self.dead)
        report.waiting = waiting
        if report.settled:  # the last look: what a worker holds unacked is waiting too
            report.waiting += await asyncio.to_thread(unacked_in, self._env.vhost)
        return report

    async def settle(self, timeout: float = 90) -> Report:
        """The first report with nothing lost, nothing unsent and no saga running, or the last."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                report = await self.report()
            except UNREACHABLE:  # a server is still coming back
                report = None
            if report is not None and (report.settled or time.monotonic() > deadline):
                return report
            if report is None and time.monotonic() > deadline:
                raise AssertionError(f"the database stayed unreachable for {timeout}s")
            await asyncio.sleep(0.5)
