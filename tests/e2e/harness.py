"""Drive the worker as a real process, and talk to it only through AMQP and the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """``python -m worker run`` in a subprocess, its log in a file."""

    def __init__(
        self,
        env: dict[str, str],
        log_dir: Path,
        name: str = "worker",
        args: tuple[str, ...] = ("run",),
    ) -> None:
        self.env = {**os.environ, "LOG_LEVEL": "INFO", **env}
        self.args = args
        self.log_path = log_dir / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> WorkerProcess:
        readies = self.log().count("ready:")
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "worker", *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait_for_log("ready:", readies + 1, timeout)
        return self

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def wait_for_log(self, text: str, count: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.log().count(text) < count:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"worker exited {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} x{count} within {timeout}s:\n{self.log()}")
            time.sleep(0.05)

    def stop(self, timeout: float = 40) -> int:
        """SIGTERM, then wait; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def wait_exit(self, timeout: float = 30) -> int:
        assert self.process is not None
        return self.process.wait(timeout)


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class BusClient:
    """A plain AMQP client, as any outside user would write one."""

    def __init__(self, amqp_url: str) -> None:
        self.amqp_url = amqp_url
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def __aenter__(self) -> BusClient:
        self.connection = await aio_pika.connect(self.amqp_url, timeout=30)
        self.channel = await self.connection.channel(publisher_confirms=True)
        self.reply_queue = await self.channel.declare_queue(exclusive=True, auto_delete=True)
        await self.reply_queue.consume(self._on_reply, no_ack=True)
        self.commands = await self.channel.get_exchange("commands", ensure=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.connection.close()

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._replies.get(message.correlation_id or "")
        if future is not None and not future.done():
            future.set_result(json.loads(message.body))

    async def publish(
        self,
        command: str,
        body: dict[str, Any] | bytes,
        *,
        message_id: str | None = None,
        reply: bool = True,
        content_type: str | None = "application/json",
        headers: dict[str, Any] | None = None,
    ) -> str:
        """Publish a command; return the correlation id its reply will carry."""
        correlation_id = uuid.uuid4().hex
        if reply:
            self._replies[correlation_id] = asyncio.get_running_loop().create_future()
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        await self.commands.publish(
            aio_pika.Message(
                raw,
                content_type=content_type,
                message_id=message_id if message_id is not None else uuid.uuid4().hex,
                correlation_id=correlation_id,
                reply_to=self.reply_queue.name if reply else None,
                headers=headers,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=command,
        )
        return correlation_id

    async def outcome(self, correlation_id: str, timeout: float = 30) -> dict[str, Any]:
        return await asyncio.wait_for(asyncio.shield(self._replies[correlation_id]), timeout)

    async def call(self, command: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return await self.outcome(await self.publish(command, body, **kwargs))

    async def drain(
        self, queue: str, wanted: int, timeout: float = 30
    ) -> list[AbstractIncomingMessage]:
        """Take ``wanted`` messages off ``queue`` (acked), waiting up to ``timeout``."""
        q = await self.channel.declare_queue(queue, passive=True)
        got: list[AbstractIncomingMessage] = []
        deadline = time.monotonic() + timeout
        while len(got) < wanted and time.monotonic() < deadline:
            message = await q.get(fail=False)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            got.append(message)
        return got

    async def subscribe_events(self, pattern: str = "accounts.#") -> aio_pika.abc.AbstractQueue:
        queue = await self.channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind("domain-events", routing_key=pattern)
        return queue


def open_account(account_id: str, currency: str = "EUR") -> dict[str, str]:
    return {"account_id": account_id, "owner": f"Owner of {account_id}", "currency": currency}


def money(account_id: str, amount: str, currency: str = "EUR") -> dict[str, str]:
    return {"account_id": account_id, "amount": amount, "currency": currency}
