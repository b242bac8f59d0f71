"""What the console's tests share: an environment whose AMQP password is findable (a RabbitMQ
user of its own), administrators, dead letters, and logging in."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import aio_pika
import httpx
from fastapi.routing import iter_route_contexts

from tests.e2e.harness import ROOT, BusClient, run_cli
from tests.services import AMQP_BASE_URL, create_database, drop_database, pg_fetch, pg_url
from tests.wiring import CONTEXTS
from worker.config import Settings
from worker.web.app import create_app

DLQ = "accounts.commands.dlq"
QUEUE = "accounts.commands"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)


def _migrate(env: dict[str, str]) -> None:
    migrated = run_cli(env, "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr


def _broker_user(vhost: str, user: str, password: str) -> None:
    with ThreadPoolExecutor() as pool:
        list(
            pool.map(
                lambda args: _rabbitmqctl(*args),
                [("add_vhost", vhost), ("add_user", user, password)],
            )
        )
    _rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")


@contextmanager
def console_environment(temporal_address: str) -> Iterator[dict[str, str]]:
    """A private database, vhost and task queues (as ``private_env``), reached by a RabbitMQ
    user of its own whose password appears nowhere else, so that a page or a log that shows
    it is caught. The broker and the database are prepared at the same time."""
    name = uuid.uuid4().hex[:8]
    vhost, database = f"console-{name}", f"worker_console_{name}"
    user, password = f"console-{name}", new_id("amqp-secret")
    host = urlsplit(AMQP_BASE_URL).netloc.rsplit("@", 1)[-1]
    env = {
        "AMQP_URL": f"amqp://{user}:{password}@{host}/{quote(vhost, safe='')}",
        "DATABASE_URL": pg_url(database),
        "TEMPORAL_ADDRESS": temporal_address,
        "TEMPORAL_TASK_QUEUE": f"console-{name}",
        "TEMPORAL_TASK_QUEUE_PREFIX": f"console-{name}-",
        "SHUTDOWN_GRACE": "10",
    }
    create_database(database)
    try:
        with ThreadPoolExecutor() as pool:
            done = [pool.submit(_migrate, env), pool.submit(_broker_user, vhost, user, password)]
            for future in done:
                future.result()
        yield env
    finally:
        drop_database(database)
        for args in (("delete_user", user), ("delete_vhost", vhost)):
            subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True)


def add_administrators(env: dict[str, str], people: dict[str, tuple[str, str]]) -> None:
    """Every one of ``people`` added in one process (``admins add`` costs a process each)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.e2e.console.seed"],
        cwd=ROOT,
        env={**os.environ, **env},
        input=json.dumps(people),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def worker_record(code: str, command: str = "Deposit", dlq_id: str | None = None) -> dict[str, Any]:
    """The failure record the worker writes on a dead letter (see headers.py)."""
    return {
        "dlq-id": dlq_id or uuid.uuid4().hex[:12],
        "failure-class": "transient",
        "error-code": code,
        "error-message": "ConnectionRefusedError: the database is down",
        "original-queue": QUEUE,
        "original-exchange": "commands",
        "original-routing-key": command,
        "command": command,
        "attempts": 7,
        "failed-at": datetime.now(UTC).isoformat(),
    }


async def put_in_dlq(
    bus: BusClient,
    body: dict[str, Any],
    code: str,
    dlq_id: str | None = None,
    message_id: str | None = None,
) -> tuple[str, str]:
    """A dead letter as the worker would have left it: (its DLQ id, its message id)."""
    headers, message_id = worker_record(code, dlq_id=dlq_id), message_id or new_id("m")
    await bus.channel.default_exchange.publish(
        aio_pika.Message(
            json.dumps(body).encode(),
            content_type="application/json",
            message_id=message_id,
            headers=headers,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        ),
        routing_key=DLQ,
    )
    return str(headers["dlq-id"]), message_id


async def balance(database_url: str, account: str) -> str:
    rows = await pg_fetch(database_url, "SELECT balance FROM accounts WHERE id=$1", account)
    return f"{rows[0]['balance']:.2f}"


async def audit_rows(database_url: str, target: str) -> list[dict[str, Any]]:
    rows = await pg_fetch(
        database_url,
        "SELECT action, operator, reason FROM audit_log WHERE target=$1 ORDER BY id",
        target,
    )
    return [dict(row) for row in rows]


def amqp_password(env: dict[str, str]) -> str:
    password = urlsplit(env["AMQP_URL"]).password
    assert password
    return password


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@asynccontextmanager
async def logged_in(base_url: str, name: str, password: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with a console session of ``name``."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        form = await client.get("/console/login")
        answer = await client.post(
            "/console/login",
            data={"csrf": csrf_of(form.text), "name": name, "password": password},
        )
        assert answer.status_code == 303, answer.text
        yield client


async def session_csrf(client: httpx.AsyncClient) -> str:
    """The CSRF token of the client's session (every page's logout form has it)."""
    return csrf_of((await client.get("/console/audit")).text)


def console_posts() -> list[str]:
    """Every path the console takes a POST on, as the front door's app declares them."""
    app = create_app(Settings(extra_contexts=""), CONTEXTS)
    return sorted(
        {
            str(route.path)
            for route in iter_route_contexts(app.routes)
            if str(route.path).startswith("/console") and "POST" in (route.methods or ())
        }
    )


def concrete(path: str, values: dict[str, str]) -> str:
    """``path`` with each ``{name}`` replaced by ``values[name]``, as one path segment."""
    return re.sub(r"{(\w+)}", lambda found: quote(values[found.group(1)], safe=""), path)
