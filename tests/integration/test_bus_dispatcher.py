"""The bus as the saga's dispatcher, on each storage: steps once, settled steps never."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import Backend
from tests.wiring import COMMANDS
from tests.wiring import HANDLERS as COMMAND_HANDLERS
from worker.bus.messagebus import MessageBus
from worker.sagas.dispatcher import BusDispatcher

pytestmark = pytest.mark.integration


def dispatcher(backend: Backend) -> BusDispatcher:
    return BusDispatcher(
        MessageBus(backend.uow_factory, COMMAND_HANDLERS), backend.uow_factory, COMMANDS
    )


async def test_a_settled_step_can_no_longer_apply(backend: Backend) -> None:
    bus = dispatcher(backend)
    account, saga = f"acc-{uuid.uuid4().hex[:8]}", f"transfer-{uuid.uuid4().hex[:8]}"
    fields = {"account_id": account, "amount": "5.00", "currency": "EUR"}
    opened = await bus.dispatch(
        "OpenAccount",
        {"account_id": account, "owner": "Ada", "currency": "EUR"},
        f"o-{saga}",
        None,
    )
    applied = await bus.dispatch("Deposit", fields, f"{saga}/deposit/1", "corr")

    settled = await bus.settle([f"{saga}/deposit/1", f"{saga}/deposit/2"])
    late = await bus.dispatch("Deposit", fields, f"{saga}/deposit/2", "corr")

    assert (opened.status, applied.status) == ("accepted", "accepted")
    assert settled == {f"{saga}/deposit/1": "accepted", f"{saga}/deposit/2": "rejected"}
    assert (late.status, late.error_code) == ("rejected", "superseded")
    assert await bus.recorded_with_prefix(f"{saga}/") == settled


async def test_a_malformed_internal_command_is_invalid_not_refused(backend: Backend) -> None:
    result = await dispatcher(backend).dispatch(
        "Deposit", {"account_id": "x", "amount": "1E+2", "currency": "EUR"}, "m-1", None
    )
    assert result.status == "invalid"
