"""The ``sagas`` CLI with two saga kinds declared: ``--kind``, and ids several kinds have."""

from __future__ import annotations

import json
import uuid

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.e2e.harness import run_cli
from tests.e2e.second_saga import PayoutInput
from workflows.transfers.shared import TransferInput

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(worker_env: dict[str, str]) -> dict[str, str]:
    return {**worker_env, "EXTRA_CONTEXTS": "tests.e2e.second_saga:CONTEXT"}


async def start_both(address: str, business_id: str) -> None:
    """A payout and a transfer of one id, on a task queue nobody polls."""
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    queue = f"nobody-{uuid.uuid4().hex[:8]}"
    await client.start_workflow(
        "PayoutSaga", PayoutInput(payout_id=business_id), id=f"payout-{business_id}",
        task_queue=queue,
    )  # fmt: skip
    transfer = TransferInput(
        transfer_id=business_id, from_account_id="a", to_account_id="b", amount="1",
        currency="EUR",
    )  # fmt: skip
    await client.start_workflow(
        "TransferSaga", transfer, id=f"transfer-{business_id}", task_queue=queue
    )


async def test_an_id_two_kinds_have_needs_a_kind_and_list_names_each_sagas_kind(
    env: dict[str, str],
) -> None:
    shared = f"s-{uuid.uuid4().hex[:8]}"
    await start_both(env["TEMPORAL_ADDRESS"], shared)

    ambiguous = run_cli(env, "sagas", "show", shared)
    unknown = run_cli(env, "sagas", "list", "--kind", "nope")
    payouts = json.loads(run_cli(env, "sagas", "list", "--kind", "payout", "--json").stdout)
    listed = run_cli(env, "sagas", "list").stdout.splitlines()

    assert (ambiguous.returncode, ambiguous.stdout) == (2, "")
    assert ambiguous.stderr.strip() == (
        f"error: sagas of several kinds have the id '{shared}' (transfer, payout): add --kind"
    )
    assert unknown.returncode == 2
    assert "unknown saga kind 'nope'; known: transfer, order, payout" in unknown.stderr
    [payout] = [p for p in payouts if p["id"] == shared]
    assert (payout["kind"], payout["payout_id"], payout["workflow_id"]) == (
        "payout", shared, f"payout-{shared}",
    )  # fmt: skip
    mine = sorted(line.split()[0] for line in listed if f" {shared} " in line)
    assert mine == ["payout", "transfer"]
