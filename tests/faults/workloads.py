"""Workloads whose every outcome is known in advance, whatever order they are handled in.

Accounts are funded far beyond what the small withdrawals and transfers can take,
so those are always accepted; the deliberate refusals (overdrafts, unknown
accounts, a second opening, a currency mismatch) are refused in any order.
"""

from __future__ import annotations

import random
import uuid
from decimal import Decimal

from tests.faults.traffic import Planned, command

FUNDING = "10000.00"
OVERDRAFT = "9000000.00"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def cents(rng: random.Random, low: int, high: int) -> str:
    """A random amount between ``low`` and ``high`` cents, as a decimal string."""
    return str(Decimal(rng.randint(low, high)) / 100)


def open_account(account_id: str, expect: str = "accepted") -> Planned:
    fields = {"account_id": account_id, "owner": f"Owner of {account_id}", "currency": "EUR"}
    return command("OpenAccount", fields, expect)


def deposit(account_id: str, amount: str, currency: str = "EUR") -> Planned:
    fields = {"account_id": account_id, "amount": amount, "currency": currency}
    return command("Deposit", fields, "accepted", amount)


def withdraw(account_id: str, amount: str) -> Planned:
    fields = {"account_id": account_id, "amount": amount, "currency": "EUR"}
    return command("Withdraw", fields, "accepted", f"-{amount}")


def refused(planned: Planned, code: str) -> Planned:
    planned.expect = f"rejected:{code}"
    return planned


def transfer(
    transfer_id: str, source: str, target: str, amount: str, ends: str = "completed"
) -> Planned:
    """A transfer whose saga must end ``ends`` (between funded accounts: completed)."""
    fields = {
        "transfer_id": transfer_id,
        "from_account_id": source,
        "to_account_id": target,
        "amount": amount,
        "currency": "EUR",
    }
    planned = command("TransferMoney", fields, "accepted")
    planned.ends = ends
    return planned


def mixed(
    rng: random.Random, accounts: list[str], count: int, transfers: float = 0.05
) -> list[Planned]:
    """``count`` commands on funded ``accounts``: mostly accepted, some refused."""
    kinds = [
        ("deposit", 0.36),
        ("withdraw", 0.30),
        ("overdraft", 0.05),
        ("ghost", 0.05),
        ("reopen", 0.03),
        ("open", 0.04),
        ("mismatch", 0.03),
        ("transfer", transfers),
    ]
    names, weights = zip(*kinds, strict=True)
    return [_one(rng, kind, accounts) for kind in rng.choices(names, weights, k=count)]


def _one(rng: random.Random, kind: str, accounts: list[str]) -> Planned:
    account = rng.choice(accounts)
    if kind == "deposit":
        return deposit(account, cents(rng, 100, 999))
    if kind == "withdraw":
        return withdraw(account, cents(rng, 1, 499))
    if kind == "overdraft":
        return refused(withdraw(account, OVERDRAFT), "insufficient_funds")
    if kind == "ghost":
        return refused(deposit(new_id("ghost"), "1.00"), "account_not_found")
    if kind == "reopen":
        return open_account(account, "rejected:account_already_exists")
    if kind == "open":
        return open_account(new_id("fresh"))
    if kind == "mismatch":
        return refused(deposit(account, "1.00", "USD"), "currency_mismatch")
    source, target = rng.sample(accounts, 2)
    return transfer(new_id("t"), source, target, cents(rng, 1, 499))


def twice_out_of_order(messages: list[Planned], rng: random.Random) -> list[Planned]:
    """Every message twice: the originals shuffled, each copy somewhere after it.

    A copy can then arrive after later messages of the same account, which is
    what a redelivery after a crash or a client's retry looks like.
    """
    order = list(messages)
    rng.shuffle(order)
    result: list[Planned] = []
    pending: list[Planned] = []
    for message in order:
        result.append(message)
        pending.append(message)
        while pending and rng.random() < 0.5:
            result.append(pending.pop(rng.randrange(len(pending))))
    rng.shuffle(pending)
    return result + pending
