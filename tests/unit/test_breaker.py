"""The consumer's breaker: after many transient failures, one probing message at a time."""

from __future__ import annotations

import asyncio

from worker.messaging.breaker import Breaker


async def test_a_closed_breaker_lets_every_message_through() -> None:
    breaker = Breaker(threshold=3, probe_interval=0.05)
    breaker.failed(outage=True)
    breaker.failed(outage=True)

    assert await breaker.admit(asyncio.Event()) is False
    assert not breaker.is_open


async def test_consecutive_transient_failures_open_the_breaker_for_one_probe_at_a_time() -> None:
    breaker = Breaker(threshold=2, probe_interval=0.05)
    breaker.failed(outage=True)
    breaker.failed(outage=True)
    stopping = asyncio.Event()

    first = await breaker.admit(stopping)
    second = asyncio.create_task(breaker.admit(stopping))
    await asyncio.sleep(0.2)

    assert first is True
    assert not second.done(), "nobody else tries while a probe is out"
    breaker.failed(outage=True, probe=True)
    assert await second is True, "the next probe goes after the interval"


async def test_a_successful_probe_closes_the_breaker_for_everyone_waiting() -> None:
    breaker = Breaker(threshold=1, probe_interval=0.05)
    breaker.failed(outage=True)
    stopping = asyncio.Event()
    probe = await breaker.admit(stopping)
    waiting = [asyncio.create_task(breaker.admit(stopping)) for _ in range(5)]

    breaker.succeeded(probe=bool(probe))

    assert await asyncio.gather(*waiting) == [False] * 5
    assert not breaker.is_open


async def test_a_bug_proves_the_dependency_answered_and_closes_the_breaker() -> None:
    breaker = Breaker(threshold=1, probe_interval=0.05)
    breaker.failed(outage=True)

    breaker.failed(outage=False, probe=True)

    assert not breaker.is_open


async def test_messages_waiting_for_a_probe_give_up_when_the_consumer_stops() -> None:
    breaker = Breaker(threshold=1, probe_interval=60)
    breaker.failed(outage=True)
    stopping = asyncio.Event()
    await breaker.admit(stopping)
    waiting = asyncio.create_task(breaker.admit(stopping))

    stopping.set()

    assert await waiting is None
