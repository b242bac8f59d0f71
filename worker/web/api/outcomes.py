"""Where a command sent over HTTP stands: the inbox's outcome, else one the key's row keeps
(``invalid``, which the inbox never records), else pending; and waiting for it to end."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from worker.bus.outcomes import ErrorInfo, Outcome, Status
from worker.persistence.models import InboxRow
from worker.persistence.unit_of_work import outcome_from_row
from worker.persistence.web import HttpCommandRow

#: Seconds between looks at the database while waiting with no reply expected here.
POLL_INTERVAL = 0.15
#: ... and while this process expects the reply: the database is only asked in case the
#: reply went to another process of the front door (they share one reply queue).
POLL_INTERVAL_HEARING = 1.0
PENDING = "pending"
#: The status code each state answers ``POST /commands/{name}`` with.
STATUS_CODES = {PENDING: 202, "accepted": 200, "rejected": 409, "invalid": 422}
Reply = asyncio.Future[dict[str, Any]]
Lookup = Callable[[str], Awaitable[dict[str, Any] | None]]


def pending(message_id: str) -> dict[str, Any]:
    return {"status": PENDING, "message_id": message_id, "error": None, "duplicate": False}


def _taken(message_id: str, command: str) -> dict[str, Any]:
    """The outcome of a key whose message id the worker processed as another command
    (sent over AMQP while the key was new): the key's own command will never run."""
    error = ErrorInfo(
        "idempotency_key_conflict",
        f"the message id was used by another command than {command}; send it with a new key",
    )
    return Outcome(Status.INVALID, message_id, error).to_json()


async def final_outcome(message_id: str) -> dict[str, Any] | None:
    """The command's outcome as the AMQP reply has it, once there is one."""
    inbox = await InboxRow.get_or_none(message_id=message_id)
    key = await HttpCommandRow.get_or_none(idempotency_key=message_id)
    if inbox is not None:
        if key is not None and key.command != inbox.command:
            return _taken(message_id, key.command)
        return outcome_from_row(inbox).to_json()
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
    dead-letters such a command), and a later ``GET`` must still tell. The inbox keeps
    every other outcome: nothing is written for them."""
    if reply.get("status") != Status.INVALID.value:
        return
    error = reply.get("error") or {}
    await HttpCommandRow.filter(idempotency_key=str(reply.get("message_id")), status=None).update(
        status=Status.INVALID.value,
        error_code=str(error.get("code", "invalid"))[:64],
        error_message=str(error.get("message", "")),
    )


async def wait_for_outcome(
    message_id: str,
    reply: Reply | None,
    seconds: float,
    stopping: asyncio.Event,
    look: Lookup = final_outcome,
) -> dict[str, Any] | None:
    """The outcome as soon as the reply brings it or ``look`` (the database) has it; None
    after ``seconds``, or as soon as ``stopping`` is set (the server is shutting down)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    stop = asyncio.ensure_future(stopping.wait())
    try:
        while True:
            if reply is not None and reply.done():
                heard = reply.result()
                # A duplicate's reply repeats what the inbox holds for the id: that is
                # looked up, in case the id was another command's.
                if not heard.get("duplicate"):
                    return heard
                reply = None  # from now on, the database alone tells
            found = await look(message_id)
            left = deadline - loop.time()
            if found is not None or left <= 0 or stopping.is_set():
                return found
            interval = POLL_INTERVAL if reply is None else POLL_INTERVAL_HEARING
            woken: set[asyncio.Future[Any]] = {stop} if reply is None else {stop, reply}
            await asyncio.wait(
                woken, timeout=min(interval, left), return_when=asyncio.FIRST_COMPLETED
            )
    finally:
        stop.cancel()
