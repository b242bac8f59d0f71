"""``worker check`` on SQLite and PostgreSQL: a ledger built through the real bus, then corrupted.

Each backend gets a database of its own: ``check`` reads the whole database, and
the shared test database holds rows other tests bent on purpose.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.harness import run_cli
from tests.integration.private_database import private_url
from tests.wiring import COMMANDS, CONTEXTS, tortoise_uow_factory
from tests.wiring import HANDLERS as COMMAND_HANDLERS
from worker.bus.messagebus import MessageBus
from worker.contexts.accounts.persistence import AccountRow
from worker.contexts.transfers.persistence import TransferRow
from worker.messaging.outbox_relay import OutboxRelay
from worker.persistence.models import OutboxRow
from worker.persistence.retention import RetentionSweeper
from worker.sagas.dispatcher import BusDispatcher
from worker.sagas.retention import kept_steps

pytestmark = pytest.mark.integration
__all__ = ["private_url"]  # the fixture


class Ledger:
    """Commands through the real bus and unit of work, as the worker and its sagas send them."""

    def __init__(self) -> None:
        self.bus = BusDispatcher(
            MessageBus(tortoise_uow_factory, COMMAND_HANDLERS), tortoise_uow_factory, COMMANDS
        )

    async def send(self, command: str, message_id: str | None = None, **fields: str) -> None:
        result = await self.bus.dispatch(command, fields, message_id or uuid.uuid4().hex, None)
        assert result.status == "accepted", result

    async def funded(self, account_id: str, amount: str) -> None:
        await self.send("OpenAccount", account_id=account_id, owner="Ada", currency="EUR")
        await self.send("Deposit", account_id=account_id, amount=amount, currency="EUR")

    async def transfer(self, tid: str, source: str, target: str, amount: str, steps: str) -> None:
        """TransferMoney, then the saga's ``steps`` and, if given, its recorded outcome."""
        await self.send(
            "TransferMoney",
            transfer_id=tid,
            from_account_id=source,
            to_account_id=target,
            amount=amount,
            currency="EUR",
        )
        for step in steps.split():
            if step in {"completed", "compensated"}:
                await self.send(
                    "RecordTransferOutcome",
                    f"transfer-{tid}/outcome/{step}/1",
                    transfer_id=tid,
                    state=step,
                )
                continue
            command, account = ("Withdraw", source) if step == "withdraw" else ("Deposit", target)
            if step == "refund":
                account = source
            await self.send(
                command,
                f"transfer-{tid}/{step}/1",
                account_id=account,
                amount=amount,
                currency="EUR",
            )


async def sweep_oldest_events(account_id: str, versions: int, logged: bool = False) -> None:
    """As if the relay sent them two days ago and retention ran: before this release's
    event log (``logged=False``: an upgraded database's old history), or with it."""
    if logged:
        relay = OutboxRelay(batch_size=1000, poll_interval=1, is_postgres=False)
        while await relay.log_pending():
            pass
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    await OutboxRow.filter(aggregate_id=account_id, aggregate_version__lte=versions).update(
        sent_at=two_days_ago
    )
    sweeper = RetentionSweeper(
        inbox_retention=timedelta(days=7),
        outbox_retention=timedelta(hours=24),
        interval=300,
        batch_size=100,
        kept_steps=kept_steps(CONTEXTS.sagas),
    )
    await sweeper.sweep_once()


def check(url: str, *args: str) -> tuple[int, str]:
    done = run_cli({"DATABASE_URL": url}, "check", "--skip-sagas", *args)
    assert not done.stderr, done.stderr
    return done.returncode, done.stdout


async def test_check_passes_a_consistent_ledger_then_names_every_corruption(
    private_url: str,
) -> None:
    ledger = Ledger()
    for account in ("alice", "bob", "carol", "dave", "erin"):
        await ledger.funded(account, "100.00")
    await ledger.send("Withdraw", account_id="carol", amount="30.00", currency="EUR")
    await ledger.send("FreezeAccount", account_id="carol")
    await ledger.transfer("t-done", "alice", "bob", "10.00", "withdraw deposit completed")
    await ledger.transfer("t-undone", "bob", "alice", "5.00", "withdraw refund compensated")
    await ledger.transfer("t-flying", "alice", "bob", "4.50", "withdraw")
    await sweep_oldest_events("erin", 2)

    code, out = check(private_url, "--json")
    clean = json.loads(out)
    assert code == 0, out
    assert clean["ok"] is True
    assert clean["violations"] == []
    assert (clean["accounts_checked"], clean["accounts_not_verifiable"]) == (5, 1)
    assert (clean["transfers_checked"], clean["transfers_not_verifiable"]) == (3, 0)
    # No relay ran: t-flying's saga was never started, which is not a violation.
    assert clean["transfers_waiting_to_start"] == 1
    assert clean["in_flight"] == "4.50 EUR"
    assert clean["totals"] == {}  # erin's first deposit was swept: no EUR total

    await AccountRow.filter(id="alice").update(balance="86.50")  # was 85.50
    await AccountRow.filter(id="dave").update(balance="-5.00")
    await OutboxRow.filter(aggregate_id="carol", aggregate_version=3).delete()
    await TransferRow.filter(id="t-done").update(amount="11.00")

    code, out = check(private_url)
    assert code == 1
    lines = out.splitlines()
    assert lines[:-1] == [
        "balance_mismatch: alice: balance 86.50 EUR, but its deposits minus withdrawals "
        "make 85.50 EUR",
        "event_record: carol: the event record misses versions [3] between kept ones (not a sweep)",
        "negative_balance: dave: -5.00 EUR",
        "balance_mismatch: dave: balance -5.00 EUR, but its deposits minus withdrawals "
        "make 100.00 EUR",
        "money_not_conserved: t-done: completed: expected 11.00 EUR withdrawn and deposited, "
        "but its steps moved withdraw 10.00 EUR, deposit 10.00 EUR, refund 0.00 EUR",
    ]
    assert lines[-1] == (
        "accounts: 5 checked, 1 not verifiable (history swept); transfers: 3 checked "
        "(sagas not checked), 0 not verifiable; in flight: 4.50 EUR; catalog: 0 products "
        "checked; orders: 0 checked, 0 not verifiable (history swept); charged net: 0; "
        "violations: 5"
    )


async def test_check_names_a_transfer_whose_saga_id_another_request_holds(
    private_url: str,
) -> None:
    _, out = check(private_url, "--json")
    before = json.loads(out)
    held = "workflow transfer-t-taken runs for another request (run 7f3a: alice to carol, 9.00)"
    await TransferRow.create(
        id="t-taken",
        from_account_id="alice",
        to_account_id="bob",
        amount="7.00",
        currency="EUR",
        state="conflicted",
        reason=held,
        version=2,
    )

    code, out = check(private_url, "--json")
    after = json.loads(out)

    assert code == 1
    assert [v for v in after["violations"] if v not in before["violations"]] == [
        {
            "kind": "saga_conflict",
            "subject": "t-taken",
            "detail": f"its saga id is held by another request's run, no money moved: {held}",
        }
    ]
    assert after["transfers_checked"] == before["transfers_checked"] + 1
    assert after["in_flight"] == before["in_flight"]  # a conflicted transfer moved nothing


async def test_check_refuses_a_database_that_is_not_there(tmp_path: Path) -> None:
    done = run_cli({"DATABASE_URL": f"sqlite://{tmp_path / 'none.sqlite3'}"}, "check")

    assert done.returncode == 1
    assert done.stderr.startswith("error: the database file ")
    assert "db migrate" in done.stderr


def test_check_does_not_need_temporal_when_no_transfer_is_unfinished(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite://{tmp_path / 'empty.sqlite3'}",
        "TEMPORAL_ADDRESS": "127.0.0.1:1",  # nobody listens: asking would be a violation
    }
    assert run_cli(env, "db", "migrate").returncode == 0

    done = run_cli(env, "check", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["violations"] == []
