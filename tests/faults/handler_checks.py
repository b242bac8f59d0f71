"""What must hold of the read side once every handler caught up, however often one died.

- Each account's statement has one line per money event in the log, in version order
  (positions, amounts and balances as the events have them), nothing twice or missing;
  its amounts add up to its last balance, which is the account's (``accounts list``).
- ``handled_events`` has one row per (handler, event) for exactly the log's events of
  the handler's types: no event skipped, none recorded twice, none of another type.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import asyncpg

from tests.e2e.harness import run_cli
from tests.faults.environment import Environment
from tests.faults.handler_traffic import SUBSCRIPTIONS
from worker.contexts.accounts.statement import DEPOSITED, WITHDRAWN

_MONEY_EVENTS = (
    "SELECT aggregate_id, position, event_type, payload, causation_id FROM event_log "
    "WHERE event_type = ANY($1::text[]) ORDER BY aggregate_id, aggregate_version"
)
_HANDLED = (
    "SELECT count(*) AS n, count(DISTINCT h.event_id) AS distinct_events, "
    "count(l.event_id) FILTER (WHERE l.event_type = ANY($2::text[])) AS of_its_types "
    "FROM handled_events h LEFT JOIN event_log l ON l.event_id = h.event_id WHERE h.handler = $1"
)
_LOGGED = "SELECT count(*) FROM event_log WHERE event_type = ANY($1::text[])"


def cli_json(env: Environment, *args: str) -> Any:
    done = run_cli(env.worker_env(), *args, "--json")
    assert done.returncode == 0, (args, done.stderr)
    return json.loads(done.stdout)


def expected_line(row: asyncpg.Record) -> dict[str, Any]:
    payload = json.loads(row["payload"])
    sign = "-" if row["event_type"] == WITHDRAWN else ""
    return {
        "position": row["position"],
        "amount": f"{sign}{payload['amount']}",
        "balance": payload["balance"],
        "cause": row["causation_id"],
    }


def statement_problems(
    account: str, logged: list[asyncpg.Record], statement: dict[str, Any], balance: str
) -> list[str]:
    entries = statement["entries"]
    positions = [entry["position"] for entry in entries]
    if len(set(positions)) != len(positions):
        return [f"{account}: a line twice in the statement ({positions})"]
    seen = [{key: e[key] for key in ("position", "amount", "balance", "cause")} for e in entries]
    wanted = [expected_line(row) for row in logged]
    if seen != wanted:
        missing = {w["position"] for w in wanted} - set(positions)
        return [
            f"{account}: statement is not the log's ({len(seen)} lines, {len(wanted)} "
            f"events, missing positions {sorted(missing)[:10]})"
        ]
    total = sum((Decimal(entry["amount"]) for entry in entries), Decimal(0))
    last = entries[-1]["balance"] if entries else "0"
    if not Decimal(last) == total == Decimal(balance):
        return [f"{account}: amounts add up to {total}, last line {last}, balance {balance}"]
    return []


async def statements_problems(env: Environment) -> tuple[int, list[str]]:
    """Lines checked, and what is wrong with any account's statement."""
    connection = await asyncpg.connect(env.database_url)
    try:
        rows = await connection.fetch(_MONEY_EVENTS, [DEPOSITED, WITHDRAWN])
    finally:
        await connection.close()
    by_account: dict[str, list[asyncpg.Record]] = {}
    for row in rows:
        by_account.setdefault(row["aggregate_id"], []).append(row)

    # One ``accounts list`` (what ``accounts show`` prints, for every account) costs
    # one CLI start instead of one per account.
    listed, *statements = await asyncio.gather(
        asyncio.to_thread(cli_json, env, "accounts", "list"),
        *(asyncio.to_thread(cli_json, env, "accounts", "statement", a) for a in by_account),
    )
    balances = {account["account_id"]: account["balance"] for account in listed}
    problems = [
        problem
        for account, statement in zip(by_account, statements, strict=True)
        for problem in statement_problems(
            account, by_account[account], statement, balances[account]
        )
    ]
    return len(rows), problems


async def handled_problems(env: Environment) -> dict[str, tuple[int, int, int, int]]:
    """Per handler whose records are off: (rows, distinct events, rows of its types,
    the log's events of its types)."""
    connection = await asyncpg.connect(env.database_url)
    problems = {}
    try:
        for s in SUBSCRIPTIONS:
            types = list(s.events)
            row = await connection.fetchrow(_HANDLED, s.name, types)
            logged = int(await connection.fetchval(_LOGGED, types))
            found = (int(row["n"]), int(row["distinct_events"]), int(row["of_its_types"]), logged)
            if len(set(found)) != 1:
                problems[s.name] = found
    finally:
        await connection.close()
    return problems
