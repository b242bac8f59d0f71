"""A saga step waits out a short database outage itself instead of failing its attempt."""

from __future__ import annotations

import pytest

from tests.fakes import FakeUnitOfWorkFactory
from tests.wiring import COMMANDS
from worker.bus.commands import Command
from worker.bus.outcomes import Outcome
from worker.bus.unit_of_work import MessageContext
from worker.sagas.dispatcher import BusDispatcher

FIELDS = {"account_id": "acc-1", "amount": "1.00", "currency": "EUR"}


class FlakyBus:
    """Raises the given errors in turn, then accepts."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def handle(self, command: Command, context: MessageContext) -> Outcome:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return Outcome.accepted(context.message_id)


def dispatcher(bus: FlakyBus, patience: float) -> BusDispatcher:
    return BusDispatcher(bus, FakeUnitOfWorkFactory(), COMMANDS, transient_patience=patience)  # type: ignore[arg-type]


async def test_a_step_outlasts_a_short_outage_within_one_attempt() -> None:
    bus = FlakyBus(ConnectionRefusedError("down"), ConnectionRefusedError("still down"))

    result = await dispatcher(bus, patience=5).dispatch("Deposit", FIELDS, "t-1/deposit/1", None)

    assert result.status == "accepted"
    assert bus.calls == 3


async def test_a_longer_outage_fails_the_attempt_so_temporal_retries_it() -> None:
    bus = FlakyBus(*[ConnectionRefusedError("down")] * 50)

    with pytest.raises(ConnectionRefusedError):
        await dispatcher(bus, patience=0.5).dispatch("Deposit", FIELDS, "t-1/deposit/1", None)


async def test_a_bug_fails_the_attempt_at_once() -> None:
    bus = FlakyBus(RuntimeError("boom"))

    with pytest.raises(RuntimeError):
        await dispatcher(bus, patience=5).dispatch("Deposit", FIELDS, "t-1/deposit/1", None)
    assert bus.calls == 1
