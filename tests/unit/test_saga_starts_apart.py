"""Concurrent saga starts each see tortoise's context, outside the relay's transaction."""

from __future__ import annotations

import asyncio

from tortoise.context import TortoiseContext, get_current_context

from worker.sagas.starter import _outside_transactions


async def test_concurrent_starts_each_see_the_tortoise_context_and_none_breaks_another() -> None:
    shared = TortoiseContext()

    async def looks() -> TortoiseContext | None:
        await asyncio.sleep(0.01)  # the starts overlap, as the relay's do
        return get_current_context()

    with shared:
        seen = await asyncio.gather(*(_outside_transactions(looks()) for _ in range(5)))
        assert get_current_context() is shared

    assert seen == [shared] * 5
