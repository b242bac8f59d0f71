"""The soak mode's command line (the soak itself is run by hand, never in CI)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.faults.__main__ import parse_duration
from tests.faults.environment import ROOT

pytestmark = pytest.mark.faults


def soak_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.faults", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_soak_mode_explains_itself() -> None:
    shown = soak_cli("--help")
    assert shown.returncode == 0, shown.stderr
    assert "--soak" in shown.stdout and "--skip" in shown.stdout and "--seed" in shown.stdout


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("--soak", "ten minutes"), "is not a duration"),
        (("--soak", "1m", "--skip", "meteor"), "unknown fault meteor"),
    ],
)
def test_a_bad_soak_option_is_one_error_line(args: tuple[str, ...], complaint: str) -> None:
    refused = soak_cli(*args)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: ") and complaint in refused.stderr
    assert len(refused.stderr.splitlines()) == 1


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("45s", 45), ("10m", 600), ("1h", 3600)])
def test_soak_durations_read_as_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
