"""The ``account_statement`` projection: one row per movement of money on an account.

Opening, freezing and closing move no money: the projection does not follow them.
"""

from __future__ import annotations

import re
from typing import Any

from domain.accounts.events import MoneyDeposited, MoneyWithdrawn
from domain.shared.ids import ID_PATTERN
from worker.readside.declarations import POLICY_PREFIX, LoggedEvent, Projection
from worker.readside.read_model import ReadModel
from worker.sagas.declaration import KIND_PATTERN

DEPOSITED = MoneyDeposited.type_name()
WITHDRAWN = MoneyWithdrawn.type_name()
#: What a client's command (or a policy's) is called, by the event it caused.
CLIENT_KINDS = {DEPOSITED: "deposit", WITHDRAWN: "withdrawal"}
#: A saga step's message id, ``<kind>-<business id>/<step>/<n>`` (``Steps.key``): the
#: saga kinds are not named here, the shape alone tells (clients may not send it).
SAGA_STEP_KEY = re.compile(
    rf"(?P<kind>{KIND_PATTERN.pattern})-{ID_PATTERN.strip('^$')}"
    r"/(?P<step>[a-z][a-z0-9_]*)/[1-9][0-9]*"
)

TABLES = {
    "account_statement": (
        """CREATE TABLE {table} (
            account_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            position BIGINT NOT NULL,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            amount TEXT NOT NULL,
            balance TEXT NOT NULL,
            currency TEXT NOT NULL,
            cause TEXT,
            PRIMARY KEY (account_id, version)
        )""",
    )
}
INSERT_SQL = (
    "INSERT INTO {account_statement} (account_id, version, position, at, kind, amount, "
    "balance, currency, cause) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: Positions follow versions within one aggregate: ordering by version orders both.
STATEMENT_SQL = (
    "SELECT position, at, kind, amount, balance, cause FROM {account_statement} "
    "WHERE account_id = ? ORDER BY version"
)


def movement_kind(event_type: str, causation_id: str | None) -> str:
    """``transfer.withdraw`` for a saga step's key, else the client's ``deposit``/``withdrawal``."""
    step = None
    if causation_id is not None and not causation_id.startswith(POLICY_PREFIX):
        step = SAGA_STEP_KEY.fullmatch(causation_id)
    if step is None:
        return CLIENT_KINDS[event_type]
    return f"{step['kind']}.{step['step']}"


def signed_amount(event_type: str, amount: str) -> str:
    """The payload's amount as it is written, with a minus sign if money went out."""
    return f"-{amount}" if event_type == WITHDRAWN else amount


async def apply_movement(event: LoggedEvent, model: ReadModel) -> None:
    payload = event.payload
    # A plain INSERT: the primary key makes a second application of one event fail loudly.
    await model.execute(
        INSERT_SQL,
        [
            event.aggregate_id,
            event.aggregate_version,
            event.position,
            event.occurred_at,
            movement_kind(event.event_type, event.causation_id),
            signed_amount(event.event_type, payload["amount"]),
            payload["balance"],
            payload["currency"],
            event.causation_id,
        ],
    )


ACCOUNT_STATEMENT = Projection(
    name="account_statement",
    events=(DEPOSITED, WITHDRAWN),
    tables=TABLES,
    apply=apply_movement,
)


async def statement_of(model: ReadModel, account_id: str) -> list[dict[str, Any]]:
    """The account's movements, oldest first: what ``accounts statement`` prints."""
    rows = await model.fetch(STATEMENT_SQL, [account_id])
    return [
        {
            "position": int(row["position"]),
            "at": row["at"],
            "kind": row["kind"],
            "amount": row["amount"],
            "balance": row["balance"],
            "cause": row["cause"],
        }
        for row in rows
    ]
