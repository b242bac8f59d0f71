"""The front door's HTTP server: uvicorn inside the worker's event loop, on a socket bound
before anything starts, so that a taken port is one clear line and a non-zero exit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn

from worker.config import Settings
from worker.context import Contexts

log = logging.getLogger("worker.http")


class PortTaken(Exception):
    """Another process listens where the front door would."""


def bind(host: str, port: int, what: str = "the HTTP API") -> socket.socket:
    """A listening socket on ``host:port``, or PortTaken naming the port and its use."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise PortTaken(f"port {port} on {host} ({what}) is taken: {error.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def port_is_free(host: str, port: int) -> bool:
    try:
        bind(host, port).close()
    except PortTaken:
        return False
    return True


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
            create_app(self._settings, self._catalog),
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
