"""One worker process for this package's tests, the front door on (``run --role ... --role
http``), on a database and a vhost of the package's own and the session's Temporal, with the
tests' ``tabs`` context plugged in (its ``OpenTab`` for one account twice passes HTTP's
validation and is found invalid by the worker); tokens made by the CLI as a user would.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import WorkerProcess, run_cli
from tests.e2e.read_side_support import cli_json
from tests.services import create_database, drop_database, pg_url, private_vhost
from worker.sagas.devserver import free_port

ROLES = ("commands", "sagas", "handlers", "http")
TABS = "tests.contexts.tabs.declaration:CONTEXT"


@dataclass(frozen=True)
class Tokens:
    write: str
    read: str
    #: A write token the tests revoke.
    doomed: str
    doomed_name: str

    def all(self) -> tuple[str, ...]:
        return (self.write, self.read, self.doomed)


@dataclass
class FrontDoor:
    """The worker's process and the address of its front door."""

    process: WorkerProcess
    url: str
    env: dict[str, str]
    tokens: Tokens
    #: Every answer the tests got, to look for secrets in.
    answers: list[str] = field(default_factory=list)


def wait_until_live(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not come up within {timeout}s")


async def make_tokens(env: dict[str, str]) -> Tokens:
    """Made with ``python -m worker tokens create NAME --scope S --json``, concurrently."""
    suffix = str(time.monotonic_ns())[-8:]
    names = [f"e2e-{kind}-{suffix}" for kind in ("writer", "reader", "doomed")]
    made = await asyncio.gather(
        *(
            cli_json(env, "tokens", "create", name, "--scope", scope)
            for name, scope in zip(names, ("write", "read", "write"), strict=True)
        )
    )
    assert [m["name"] for m in made] == names
    return Tokens(made[0]["token"], made[1]["token"], made[2]["token"], names[2])


@pytest.fixture(scope="package")
def api_env(temporal_address: str) -> Iterator[dict[str, str]]:
    """A migrated database and a vhost of the package's own, with the tabs context."""
    name = f"api_{uuid.uuid4().hex[:8]}"
    create_database(name)
    try:
        with private_vhost(f"api-{name}") as amqp_url:
            env = {
                "AMQP_URL": amqp_url,
                "DATABASE_URL": pg_url(name),
                "TEMPORAL_ADDRESS": temporal_address,
                "EXTRA_CONTEXTS": TABS,
                "SHUTDOWN_GRACE": "10",
            }
            migrated = run_cli(env, "db", "migrate")
            assert migrated.returncode == 0, migrated.stderr
            yield env
    finally:
        drop_database(name)


@pytest.fixture(scope="package")
async def front_door(api_env: dict[str, str], logs: Path) -> AsyncIterator[FrontDoor]:
    """The worker and its front door; the tokens are made while it starts."""
    port = free_port()
    env = {**api_env, "HTTP_PORT": str(port)}
    args = ("run", *(part for role in ROLES for part in ("--role", role)))
    process = WorkerProcess(env, logs, name="front-door", args=args)
    url = f"http://127.0.0.1:{port}"
    try:
        tokens, _ = await asyncio.gather(make_tokens(env), asyncio.to_thread(process.start))
        await asyncio.to_thread(wait_until_live, url)
        yield FrontDoor(process, url, env, tokens)
    finally:
        if process.process is not None:
            process.stop()


@pytest.fixture(scope="package")
def tokens(front_door: FrontDoor) -> Tokens:
    return front_door.tokens


@pytest.fixture(scope="module")
async def http(front_door: FrontDoor) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the front door that keeps every answer's text."""

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        front_door.answers.append(f"{response.headers}\n{response.text}")

    async with httpx.AsyncClient(
        base_url=front_door.url, timeout=40, event_hooks={"response": [keep]}
    ) as client:
        yield client
