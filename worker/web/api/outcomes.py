"""Where a command sent over HTTP stands: the inbox's outcome, else one the key's row keeps
(``invalid``, which the inbox never records), else pending; and waiting for it to end."""

from __future__ import annotations

import asyncio
from typing import Any

from worker.bus.outcomes import ErrorInfo, Outcome, Status
from worker.persistence.models import InboxRow
from worker.persistence.unit_of_work import outcome_from_row
from worker.persistence.web import HttpCommandRow

#: Seconds between looks at the database while waiting: the reply may have gone to
#: another process of the front door (or to none, after a reconnection).
POLL_INTERVAL = 0.15
PENDING = "pending"
#: The status code each state answers ``POST /commands/{name}`` with.
STATUS_CODES = {PENDING: 202, "accepted": 200, "rejected": 409, "invalid": 422}


def pending(message_id: str) -> dict[str, Any]:
    return {"status": PENDING, "message_id": message_id, "error": None, "duplicate": False}


async def final_outcome(message_id: str) -> dict[str, Any] | None:
    """The command's outcome as the AMQP reply has it, once there is one."""
    inbox = await InboxRow.get_or_none(message_id=message_id)
    if inbox is not None:
        return outcome_from_row(inbox).to_json()
    key = await HttpCommandRow.get_or_none(idempotency_key=message_id)
    if key is None or key.status is None:
        return None
    error = None if key.error_code is None else ErrorInfo(key.error_code, key.error_message or "")
    return Outcome(Status(key.status), message_id, error).to_json()


async def state_of(message_id: str) -> dict[str, Any] | None:
    """The outcome, ``pending`` for a key sent without one yet, None for an id never seen."""
    found = await final_outcome(message_id)
    if found is not None:
        return found
    if await HttpCommandRow.exists(idempotency_key=message_id):
        return pending(message_id)
    return None


async def record_reply(reply: dict[str, Any]) -> None:
    """Keep an ``invalid`` reply on the key's row: the inbox never will (the worker
    dead-letters such a command), and a later ``GET`` must still tell."""
    if reply.get("status") != Status.INVALID.value:
        return
    error = reply.get("error") or {}
    await HttpCommandRow.filter(idempotency_key=str(reply.get("message_id")), status=None).update(
        status=Status.INVALID.value,
        error_code=str(error.get("code", "invalid"))[:64],
        error_message=str(error.get("message", "")),
    )


async def wait_for_outcome(
    message_id: str, reply: asyncio.Future[dict[str, Any]] | None, seconds: float
) -> dict[str, Any] | None:
    """The outcome as soon as the reply brings it or the database has it; None after
    ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        if reply is not None and reply.done():
            return reply.result()
        found = await final_outcome(message_id)
        if found is not None:
            return found
        left = deadline - loop.time()
        if left <= 0:
            return None
        if reply is None:
            await asyncio.sleep(min(POLL_INTERVAL, left))
        else:
            await asyncio.wait({reply}, timeout=min(POLL_INTERVAL, left))
