"""Retention settings, and the sweeper's loop over a scripted database (no I/O)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from worker.config import Settings
from worker.persistence.retention import RetentionSweeper, SweptTable

RETENTION_VARIABLES = (
    "INBOX_RETENTION_DAYS",
    "OUTBOX_RETENTION_HOURS",
    "RETENTION_SWEEP_INTERVAL",
    "RETENTION_BATCH_SIZE",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read os.environ: keep this machine's retention variables out."""
    for name in RETENTION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


# --- Settings --------------------------------------------------------------------------


def test_retention_defaults_keep_ids_a_week_and_sent_events_a_day() -> None:
    settings = Settings()

    assert settings.inbox_retention_days == 7
    assert settings.outbox_retention_hours == 24
    assert settings.retention_sweep_interval == 300
    assert settings.retention_batch_size == 5000


def test_retention_settings_are_read_from_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INBOX_RETENTION_DAYS", "30")
    monkeypatch.setenv("OUTBOX_RETENTION_HOURS", "2")
    monkeypatch.setenv("RETENTION_SWEEP_INTERVAL", "60.5")
    monkeypatch.setenv("RETENTION_BATCH_SIZE", "100")

    settings = Settings()

    assert settings.inbox_retention_days == 30
    assert settings.outbox_retention_hours == 2
    assert settings.retention_sweep_interval == 60.5
    assert settings.retention_batch_size == 100


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("inbox_retention_days", 0),
        ("inbox_retention_days", -1),
        ("outbox_retention_hours", -1),
        ("retention_sweep_interval", 0),
        ("retention_sweep_interval", -5),
        ("retention_batch_size", 0),
        ("inbox_retention_days", "a week"),
    ],
)
def test_an_out_of_range_retention_setting_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: value})


def test_an_inbox_window_of_zero_days_is_refused_because_it_would_forget_every_id() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        Settings(inbox_retention_days=0)


def test_sent_events_may_be_deleted_as_soon_as_they_are_sent() -> None:
    assert Settings(outbox_retention_hours=0).outbox_retention_hours == 0


def test_the_sweeper_refuses_a_batch_size_below_one() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        RetentionSweeper(
            inbox_retention=timedelta(days=7),
            outbox_retention=timedelta(hours=24),
            interval=1,
            batch_size=0,
            kept_steps=[],
        )


# --- The sweeper's loop --------------------------------------------------------------


#: What one sweep deletes from, in order.
EVERY_TABLE = ["http_command", "inbox", "outbox", "command_outbox", "console_session"]


class ScriptedSweeper(RetentionSweeper):
    """Each DELETE answers the next scripted row count (or raises it); then 0 forever."""

    def __init__(self, script: list[int | Exception], *, interval: float, batch_size: int) -> None:
        super().__init__(
            inbox_retention=timedelta(days=7),
            outbox_retention=timedelta(hours=24),
            interval=interval,
            batch_size=batch_size,
            kept_steps=[],
        )
        self.script = list(script)
        self.calls: list[str] = []

    async def delete_batch(self, target: SweptTable, cutoff: datetime) -> int:
        self.calls.append(target.table)
        await asyncio.sleep(0)
        step = self.script.pop(0) if self.script else 0
        if isinstance(step, Exception):
            raise step
        return step


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def test_a_database_error_is_logged_and_the_next_interval_sweeps_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sweeper = ScriptedSweeper(
        [ConnectionError("database away"), 0, 3, 1], interval=0.01, batch_size=10
    )
    stop = asyncio.Event()
    caplog.set_level(logging.INFO, logger="worker.retention")

    task = asyncio.create_task(sweeper.run(stop))
    await wait_until(lambda: len(sweeper.calls) >= 1 + 2 * len(EVERY_TABLE))  # failed, two sweeps
    stop.set()
    await asyncio.wait_for(task, 1)

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(warnings) == 1
    assert "database away" in warnings[0].getMessage()
    assert len(infos) == 1, "one line for the sweep that deleted rows, none for empty ones"
    assert "deleted 3 inbox rows" in infos[0].getMessage()
    assert "1 sent outbox rows" in infos[0].getMessage()


async def test_the_first_sweep_runs_at_start_and_a_stop_ends_the_wait_for_the_next(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sweeper = ScriptedSweeper([], interval=3600, batch_size=10)
    stop = asyncio.Event()

    task = asyncio.create_task(sweeper.run(stop))
    await wait_until(lambda: sweeper.calls == EVERY_TABLE)
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, 1)

    assert time.monotonic() - started < 0.5
    assert not [r for r in caplog.records if r.name == "worker.retention"]


async def test_a_stop_is_seen_between_batches_of_a_long_sweep() -> None:
    endless = ScriptedSweeper([2] * 100_000, interval=3600, batch_size=2)
    stop = asyncio.Event()

    task = asyncio.create_task(endless.run(stop))
    await wait_until(lambda: len(endless.calls) >= 10)
    stop.set()
    await asyncio.wait_for(task, 1)

    assert len(endless.calls) < 1000
    assert set(endless.calls) == {"http_command"}


async def test_a_restarted_run_waits_out_the_interval_instead_of_sweeping_again() -> None:
    sweeper = ScriptedSweeper([], interval=3600, batch_size=10)
    first_stop, second_stop = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(sweeper.run(first_stop))
    await wait_until(lambda: len(sweeper.calls) == len(EVERY_TABLE))
    first_stop.set()
    await asyncio.wait_for(first, 1)

    second = asyncio.create_task(sweeper.run(second_stop))  # as after a broker reconnect
    await asyncio.sleep(0.05)
    second_stop.set()
    await asyncio.wait_for(second, 1)

    assert sweeper.calls == EVERY_TABLE


async def test_sweep_once_loops_until_a_batch_comes_back_short() -> None:
    sweeper = ScriptedSweeper([0, 2, 2, 1, 2, 0], interval=1, batch_size=2)

    deleted = await sweeper.sweep_once()

    assert deleted == (5, 2)
    assert sweeper.calls == ["http_command", *["inbox"] * 3, *["outbox"] * 2, *EVERY_TABLE[3:]]
