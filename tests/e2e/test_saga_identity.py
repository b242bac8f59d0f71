"""A database recreated against a Temporal that remembers the saga ids (issue: defect 2).

The README tour twice with one transfer id, the worker's database deleted in between
(Temporal's kept): the second request must not be reported by the first one's run.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import WorkerProcess, run_cli
from tests.services import create_database, drop_database, pg_fetch, pg_url, private_vhost

pytestmark = pytest.mark.e2e

#: ``send --wait-saga``'s exit code when the saga's id belongs to another request.
CONFLICTED = 7


@pytest.fixture(params=["sqlite", "postgres"])
def env(
    request: pytest.FixtureRequest, temporal_address: str, tmp_path: Path
) -> Iterator[dict[str, str]]:
    """A vhost and a database of this test's own, on the session's Temporal."""
    name = f"worker_identity_{uuid.uuid4().hex[:8]}"
    url = f"sqlite://{tmp_path / 'worker.sqlite3'}"
    if request.param == "postgres":
        create_database(name)
        url = pg_url(name)
    with private_vhost(f"identity-{uuid.uuid4().hex[:8]}") as amqp_url:
        yield {
            "AMQP_URL": amqp_url,
            "DATABASE_URL": url,
            "TEMPORAL_ADDRESS": temporal_address,
            "SHUTDOWN_GRACE": "10",
        }
    drop_database(name)


def recreate_database(env: dict[str, str]) -> None:
    """Delete .data/worker.sqlite3, or drop the PostgreSQL database: a new, empty one."""
    url = env["DATABASE_URL"]
    if url.startswith("sqlite://"):
        Path(url.removeprefix("sqlite://")).unlink()
    else:
        drop_database(url.rsplit("/", 1)[1])
        create_database(url.rsplit("/", 1)[1])


def stored(env: dict[str, str], sql: str, *args: str) -> list[tuple[object, ...]]:
    url = env["DATABASE_URL"]
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            return db.execute(sql.replace("$1", "?"), args).fetchall()
    return [tuple(row.values()) for row in asyncio.run(pg_fetch(url, sql, *args))]


def cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    done = run_cli(env, *args, timeout=120)
    return done.returncode, done.stdout + done.stderr


def tour(env: dict[str, str], logs: Path, tid: str, alice: str, bob: str) -> tuple[int, str]:
    """The README's tour: two accounts, money on one, a transfer waited for."""
    assert cli(env, "db", "migrate")[0] == 0
    worker = WorkerProcess(env, logs).start()
    try:
        for account, owner in ((alice, "Alice"), (bob, "Bob")):
            opened = cli(
                env, "send", "OpenAccount", f"account_id={account}", f"owner={owner}",
                "currency=EUR", "--wait",
            )  # fmt: skip
            assert opened[0] == 0, opened
        deposit = ("send", "Deposit", f"account_id={alice}", "amount=10", "currency=EUR", "--wait")
        assert cli(env, *deposit)[0] == 0
        return cli(
            env, "send", "TransferMoney", f"transfer_id={tid}", f"from_account_id={alice}",
            f"to_account_id={bob}", "amount=4.50", "currency=EUR", "--wait-saga", "--timeout", "60",
        )  # fmt: skip
    finally:
        assert worker.stop() == 0


def test_a_recreated_database_never_takes_the_other_runs_saga_for_its_own(
    env: dict[str, str], logs: Path
) -> None:
    tid, alice, bob = (f"{p}-{uuid.uuid4().hex[:8]}" for p in ("t", "alice", "bob"))
    first = tour(env, logs, tid, alice, bob)
    assert first[0] == 0, first
    assert f"saga completed transfer_id={tid}" in first[1]

    recreate_database(env)
    code, out = tour(env, logs, tid, alice, bob)

    assert code == CONFLICTED, out
    assert f"saga conflicted transfer_id={tid}: workflow transfer-{tid} " in out
    assert "saga completed" not in out
    [(state, reason)] = stored(env, "SELECT state, reason FROM transfers WHERE id = $1", tid)
    assert state == "conflicted"
    assert f"workflow transfer-{tid} belongs to another request" in str(reason)
    balances = stored(env, "SELECT id, CAST(balance AS TEXT) FROM accounts")
    assert {str(k): float(str(v)) for k, v in balances} == {alice: 10.0, bob: 0.0}
    shown_code, shown = cli(env, "sagas", "show", tid)
    assert shown_code == 0, shown
    assert shown.splitlines()[0] == f"transfer {tid}: conflicted (not run)"
    as_json = json.loads(run_cli(env, "sagas", "show", tid, "--json").stdout)
    assert (as_json["state"], as_json["transfer_id"]) == ("conflicted", tid)
    assert as_json["other_run"]["state"] == "completed"
