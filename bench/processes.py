"""The processes under test: the worker (in the roles a benchmark asks for) or a baseline."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.env import ROOT, Environment


class Process:
    """A process under test: the worker, a baseline or the front door, as its own process.

    ``start`` returns once ``ready`` appears in its log (at once when ``ready`` is None:
    the caller checks readiness its own way, e.g. over HTTP).
    """

    def __init__(
        self, args: list[str], env: dict[str, str], log: Path, ready: bytes | None = b"ready:"
    ) -> None:
        self.args, self.env, self.log_path = args, env, log
        self.ready = ready
        self.popen: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    def start(self, timeout: float = 60) -> Process:
        started = time.monotonic()
        log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        while self.ready is not None and self.ready not in self.log_path.read_bytes():
            if self.popen.poll() is not None or time.monotonic() - started > timeout:
                self.stop()  # no round owns it yet: nothing else would
                raise RuntimeError(f"{self.args} did not start:\n{self.log_path.read_text()}")
            time.sleep(0.01)
        self.startup_seconds = time.monotonic() - started
        return self

    def cpu_seconds(self) -> float:
        assert self.popen is not None
        fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        assert self.popen is not None
        for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()


def worker_process(
    env: Environment, log: Path, prefetch: int, roles: Sequence[str] = ("commands",)
) -> Process:
    return Process(
        [sys.executable, "-m", "worker", "run", *(a for r in roles for a in ("--role", r))],
        {
            "AMQP_URL": env.amqp_url,
            "DATABASE_URL": env.database_url,
            "PREFETCH": str(prefetch),
            "LOG_LEVEL": "INFO",
        },
        log,
    )


def handlers_process(env: Environment, log: Path, prefetch: int) -> Process:
    return worker_process(env, log, prefetch, roles=("handlers",))


def baseline_process(env: Environment, log: Path, prefetch: int) -> Process:
    return _bare("bench.baseline", env, log, prefetch)


def projection_baseline_process(env: Environment, log: Path, prefetch: int) -> Process:
    return _bare("bench.projection_baseline", env, log, prefetch)


def _bare(module: str, env: Environment, log: Path, prefetch: int) -> Process:
    return Process(
        [sys.executable, "-m", module],
        {"AMQP_URL": env.amqp_url, "DATABASE_URL": env.database_url, "PREFETCH": str(prefetch)},
        log,
    )


def front_door_process(env: Environment, log: Path, port: int) -> Process:
    """``worker http`` on ``port``; ready when ``GET /health/live`` answers (not a log line)."""
    return Process(
        [sys.executable, "-m", "worker", "http", "--port", str(port)],
        {"AMQP_URL": env.amqp_url, "DATABASE_URL": env.database_url, "LOG_LEVEL": "INFO"},
        log,
        ready=None,
    )
