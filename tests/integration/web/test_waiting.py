"""Waiting for an outcome (``Prefer: wait``) without I/O: how often the database is asked,
and how a stop ends every wait at once. The database is a counting fake."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from worker.web.api.outcomes import wait_for_outcome

pytestmark = pytest.mark.integration


class CountingLookup:
    """Stands in for the database: no outcome until ``found`` is set; counts the looks."""

    def __init__(self) -> None:
        self.looks = 0
        self.found: dict[str, Any] | None = None

    async def __call__(self, message_id: str) -> dict[str, Any] | None:
        self.looks += 1
        return self.found


def a_reply() -> asyncio.Future[dict[str, Any]]:
    return asyncio.get_running_loop().create_future()


async def test_a_wait_that_expects_the_reply_asks_the_database_about_once_a_second() -> None:
    look = CountingLookup()
    found = await wait_for_outcome("k", a_reply(), 2.5, asyncio.Event(), look)
    assert found is None
    assert 3 <= look.looks <= 4  # at 0, 1, 2 and 2.5 s; polling every 150 ms made 17


async def test_a_wait_without_a_reply_here_polls_the_database_often() -> None:
    look = CountingLookup()
    assert await wait_for_outcome("k", None, 0.6, asyncio.Event(), look) is None
    assert look.looks >= 4


async def test_the_reply_ends_the_wait_at_once_without_the_database() -> None:
    look, reply = CountingLookup(), a_reply()
    waiting = asyncio.create_task(wait_for_outcome("k", reply, 10, asyncio.Event(), look))
    await asyncio.sleep(0.05)
    reply.set_result({"status": "accepted", "message_id": "k", "duplicate": False})
    found = await asyncio.wait_for(waiting, 1)
    assert found is not None and found["status"] == "accepted"
    assert look.looks == 1


async def test_a_duplicates_reply_is_checked_against_the_database() -> None:
    look, reply = CountingLookup(), a_reply()
    look.found = {"status": "invalid", "message_id": "k", "duplicate": False}
    reply.set_result({"status": "accepted", "message_id": "k", "duplicate": True})
    found = await wait_for_outcome("k", reply, 10, asyncio.Event(), look)
    assert found == look.found


async def test_stopping_ends_every_wait_at_once_with_no_outcome() -> None:
    look, stopping = CountingLookup(), asyncio.Event()
    waits = [
        asyncio.create_task(wait_for_outcome(key, reply, 30, stopping, look))
        for key, reply in (("a", a_reply()), ("b", None))
    ]
    await asyncio.sleep(0.2)
    stopping.set()
    done, _ = await asyncio.wait(waits, timeout=0.5)
    assert len(done) == 2
    assert [wait.result() for wait in waits] == [None, None]
