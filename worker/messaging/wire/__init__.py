"""The AMQP wire as the worker needs it: every frame the broker sends can be read,
and every value read can be written back.

pamqp (which aiormq and aio-pika use) is strict where the broker is not: RabbitMQ
accepts and delivers a content header that pamqp cannot decode (a non-UTF-8
short string, a timestamp past the year 9999, a table nested deeper than
Python's recursion limit, a routing key that is not UTF-8), and pamqp cannot
encode some values it decodes (a double, a non-UTF-8 long string, a field name
over 128 bytes, a timestamp above 2**32). aiormq then drops
the whole connection on the undecodable frame, and the message comes back to
kill the next one: one hostile message stalls every queue. :func:`install`
replaces exactly the pamqp functions involved (frame decoding, table encoding,
timestamps); the versions it was written against are pinned in ``pyproject.toml``
and checked here.
"""

from __future__ import annotations

from importlib.metadata import version

from worker.messaging.wire import decoding, encoding, methods, timestamps
from worker.messaging.wire.decoding import UNDECODABLE, Undecodable

__all__ = ["UNDECODABLE", "Undecodable", "install"]

#: The pamqp release these patches were written and tested against.
PAMQP_VERSION = "4.0.1"


class UnsupportedPamqp(RuntimeError):
    pass


def install() -> None:
    """Make pamqp's content-header decoding total and its table encoding faithful (idempotent).

    Called by every entry point before it connects; it touches no connection.
    """
    installed = version("pamqp")  # pamqp.__version__ still says 4.0.0
    if installed != PAMQP_VERSION:
        raise UnsupportedPamqp(
            f"pamqp {installed} is installed; the worker's wire patches were made for "
            f"{PAMQP_VERSION} (see worker/messaging/wire): check them, then update both"
        )
    decoding.install()
    methods.install()
    encoding.install()
    timestamps.install()
