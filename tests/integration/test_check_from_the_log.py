"""``check`` reads each account's record from the event log, which retention never sweeps."""

from __future__ import annotations

import json

import pytest

from tests.integration.private_database import private_url
from tests.integration.test_check import Ledger, check, sweep_oldest_events
from worker.contexts.accounts.persistence import AccountRow
from worker.persistence.models import OutboxRow

pytestmark = pytest.mark.integration
__all__ = ["private_url"]  # the fixture


async def test_an_account_whose_oldest_outbox_rows_were_swept_is_verified_from_the_event_log(
    private_url: str,
) -> None:
    ledger = Ledger()
    for account in ("alice", "erin"):
        await ledger.funded(account, "100.00")
    await ledger.send("Withdraw", account_id="erin", amount="30.00", currency="EUR")
    await sweep_oldest_events("erin", 2, logged=True)
    assert await OutboxRow.filter(aggregate_id="erin").count() == 1

    await AccountRow.filter(id="erin").update(balance="80.00")
    code, out = check(private_url, "--json")

    report = json.loads(out)
    assert (report["accounts_checked"], report["accounts_not_verifiable"]) == (2, 0)
    assert code == 1
    assert {v["kind"] for v in report["violations"]} == {"balance_mismatch", "money_total"}
    assert "erin" in {v["subject"] for v in report["violations"]}
