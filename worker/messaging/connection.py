"""The one way the worker and its CLI connect to RabbitMQ."""

from __future__ import annotations

from typing import Any

import aio_pika
from aio_pika.abc import AbstractConnection

from worker.messaging import wire


async def connect(url: str, **options: Any) -> AbstractConnection:
    """``aio_pika.connect``, once pamqp reads every frame the broker may send (see ``wire``)."""
    wire.install()
    connection: AbstractConnection = await aio_pika.connect(url, **options)
    return connection
