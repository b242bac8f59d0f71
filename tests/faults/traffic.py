"""What the scenarios send: planned messages, and the ledger of what the broker confirmed.

Every message carries an ``x-test-ref`` header (the ledger key), so the checker can
find it again in a dead-letter queue even when it has no message id at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

REF_HEADER = "x-test-ref"


@dataclass
class Planned:
    """One logical message: what is sent, and what the checker should find afterwards."""

    ref: str
    command: str
    body: bytes
    message_id: str | None
    #: ``accepted``, ``rejected:<code>``, ``dead:<code>``, or None when any is right.
    expect: str | None = None
    #: What it does to the money when accepted: + for a deposit, - for a withdrawal.
    delta: Decimal = Decimal(0)
    #: The state its saga must end in (a transfer): ``completed``, ``rejected``...
    ends: str | None = None
    content_type: str | None = "application/json"
    content_encoding: str | None = None
    #: The AMQP ``type`` property (the command name of a message sent to a queue directly).
    type: str | None = None
    #: Published straight to this queue instead of through the ``commands`` exchange.
    queue: str | None = None
    headers: dict[str, Any] = field(default_factory=dict)

    @property
    def body_json(self) -> Any:
        return json.loads(self.body)


def command(
    name: str, fields: dict[str, Any], expect: str | None = "accepted", delta: str = "0"
) -> Planned:
    """A well-formed command with a fresh message id."""
    message_id = uuid.uuid4().hex
    return Planned(
        ref=message_id,
        command=name,
        body=json.dumps(fields).encode(),
        message_id=message_id,
        expect=expect,
        delta=Decimal(delta),
    )


@dataclass
class Ledger:
    """Every planned message by ref, and which of them the broker confirmed."""

    planned: dict[str, Planned] = field(default_factory=dict)
    confirmed: set[str] = field(default_factory=set)
    publishes: int = 0

    def plan(self, messages: Iterable[Planned]) -> list[Planned]:
        listed = list(messages)
        for message in listed:
            self.planned[message.ref] = message
        return listed

    def sent(self) -> list[Planned]:
        """The confirmed messages, in the order planned (copies first: a publishing
        thread may add to both meanwhile)."""
        planned, confirmed = list(self.planned.values()), set(self.confirmed)
        return [message for message in planned if message.ref in confirmed]
