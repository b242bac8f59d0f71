"""Reading the DLQ byte by byte while a scenario runs: when each letter arrived, and all of it.

The checker reads dead letters with aio-pika, whose decoder gives up (and drops
the connection) on exactly the properties scenario 7 sends. These readers use
pika with :func:`tests.hostile_amqp.reading_raw` active: a :class:`DlqWatcher`
consumes without acking and notes the arrival time of each letter (when it
stops, the letters go back to the queue for the ``dlq`` commands), and
:func:`drain` takes whatever is left.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
import time
from typing import Any

import pika  # type: ignore[import-untyped]

from tests.faults.hostile import DLQ, UNDECODABLE_HEADER, Letter
from tests.faults.traffic import REF_HEADER
from tests.hostile_amqp import WireProperties, decode_properties, plain


def _letter(queue: str, properties: Any, body: bytes) -> Letter:
    if isinstance(properties, WireProperties):
        fields, raw = properties.fields, properties.raw
    else:  # pika's own class: reading_raw() is not active
        fields, raw = {"headers": {}}, b""
    return Letter(fields, body, raw, time.time(), queue)


def ref_of(letter: Letter) -> str | None:
    """The ledger ref of a letter: its ref header, or the one inside the raw properties
    the worker could not decode (then the header table itself may be what failed)."""
    ref = letter.text(REF_HEADER)
    if ref:
        return ref
    raw = letter.header(UNDECODABLE_HEADER)
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    if isinstance(raw, bytes):
        headers = plain(decode_properties(raw).get("headers"))
        if isinstance(headers, dict):
            found = headers.get(REF_HEADER)
            if isinstance(found, bytes):
                found = found.decode("utf-8", "replace")
            return found if isinstance(found, str) else None
    return None


class DlqWatcher:
    """Consumes ``queue`` in a thread of its own, without acking; :meth:`stop` returns
    every letter to the queue. Run it inside :func:`tests.hostile_amqp.reading_raw`."""

    def __init__(self, amqp_url: str, queue: str = DLQ) -> None:
        self._url = amqp_url
        self._queue = queue
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._letters: list[Letter] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dlq-watcher", daemon=True)

    def start(self, timeout: float = 10) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise AssertionError(f"the DLQ watcher did not start: {self.error!r}")

    @property
    def letters(self) -> list[Letter]:
        with self._lock:
            return list(self._letters)

    def _run(self) -> None:
        try:
            connection = pika.BlockingConnection(pika.URLParameters(self._url))
        except BaseException as error:  # reported by start()
            self.error = error
            return
        try:
            channel = connection.channel()

            def on_letter(channel: Any, method: Any, properties: Any, body: bytes) -> None:
                with self._lock:
                    self._letters.append(_letter(self._queue, properties, body))

            channel.basic_consume(self._queue, on_letter, auto_ack=False)
            self._ready.set()
            while not self._stop.is_set():
                connection.process_data_events(time_limit=0.1)
        except BaseException as error:  # the test reads it
            self.error = error
            self._ready.set()
        finally:
            with contextlib.suppress(Exception):
                connection.close()  # the unacked letters go back to the queue

    def stop(self, timeout: float = 10) -> list[Letter]:
        self._stop.set()
        self._thread.join(timeout)
        return self.letters


def drain(amqp_url: str, queues: list[str]) -> list[Letter]:
    """Take every message off ``queues`` (acked: gone). Inside ``reading_raw()``."""
    taken: list[Letter] = []
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        for queue in queues:
            while True:
                method, properties, body = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    break
                taken.append(_letter(queue, properties, body))
    finally:
        with contextlib.suppress(Exception):
            connection.close()
    return taken


def worker_connections(vhost: str) -> list[str]:
    """The worker's AMQP connections on ``vhost``, as ``<name> (bus-worker pid=N)``: it
    names them so (the CLI, publishers and readers are left out). ``list_connections``
    lists every vhost's: the vhost is a column."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "vhost", "name", "client_properties"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = []
    for line in listed.splitlines():
        columns = line.split("\t")
        named = re.search(r"bus-worker pid=\d+", line)
        if named and len(columns) >= 2 and columns[0] == vhost:
            found.append(f"{columns[1]} ({named.group()})")
    return sorted(found)
