"""The front door's HTTP server: uvicorn inside the worker's event loop, on a socket bound
before anything starts, so that a taken port is one clear line and a non-zero exit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn

from worker.cli.common import CliError
from worker.config import Settings
from worker.context import Contexts

log = logging.getLogger("worker.http")


class PortTaken(Exception):
    """Another process listens where the front door would."""


def bind(host: str, port: int, what: str = "the HTTP API") -> socket.socket:
    """A listening socket on ``host:port``, or PortTaken naming the port and its use."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets; without it every answer
    # waits ~40 ms for Nagle's algorithm.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise PortTaken(f"port {port} on {host} ({what}) is taken: {error.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def require_free_ports(http_host: str, needed: list[tuple[int, str]]) -> None:
    """PortTaken for the first of ``needed`` (port, its use) something listens on; the
    HTTP API's on ``http_host``, the others on loopback (where the dev server binds)."""
    for port, use in needed:
        host = http_host if use.startswith("the HTTP") else "127.0.0.1"
        try:
            bind(host, port).close()
        except PortTaken:
            raise PortTaken(f"port {port} ({use}) is taken") from None


class _Server(uvicorn.Server):
    """The worker owns SIGTERM and SIGINT: uvicorn must not take them over."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    """Serves ``create_app`` on a socket bound at construction (``PortTaken`` if it cannot)."""

    def __init__(self, settings: Settings, catalog: Contexts) -> None:
        self._settings = settings
        self._catalog = catalog
        self._socket = bind(settings.http_host, settings.http_port)

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    async def run(self, stop: asyncio.Event) -> None:
        from worker.web.app import create_app

        config = uvicorn.Config(
            create_app(self._settings, self._catalog, stopping=stop),
            log_config=None,
            access_log=False,  # the app logs each request itself, without secrets
            lifespan="on",
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        server = _Server(config)
        serving = asyncio.create_task(server.serve(sockets=[self._socket]), name="http-server")
        stopping = asyncio.create_task(stop.wait())
        log.info(
            "HTTP API and console on http://%s:%d/ (docs at /docs, console at /console)",
            self._settings.http_host,
            self.port,
        )
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        server.should_exit = True
        await serving
        if not server.started:
            # uvicorn has logged why; the process must not go on (or exit 0) without it.
            raise CliError("the HTTP API did not start (its reason is logged above)")
