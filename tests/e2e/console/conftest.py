"""One worker, one front door and one browser for every console test, on an environment of
their own; a transfer that will need an operator is started first, so that it is waiting
by the time its test comes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, async_playwright

from tests.e2e.console.server import HttpProcess
from tests.e2e.console.support import add_administrators, console_environment, new_id
from tests.e2e.harness import BusClient, WorkerProcess, money, open_account
from tests.e2e.test_sagas import transfer
from tests.services import pg_fetch

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: name: (role, password)
PEOPLE = {
    "olive": ("operator", new_id("olive-pw")),
    "vera": ("viewer", new_id("vera-pw")),
    "ada": ("admin", new_id("ada-pw")),
    "otto": ("operator", new_id("otto-pw")),
    "walt": ("viewer", new_id("walt-pw")),
}


@dataclass
class Stack:
    env: dict[str, str]
    worker: WorkerProcess
    http: HttpProcess


@pytest.fixture(scope="package")
def stack(temporal_address: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The worker, the front door and the administrators, all started at once."""
    logs = tmp_path_factory.mktemp("console-logs")
    with console_environment(temporal_address) as env:
        worker = WorkerProcess(env, logs, name="console-worker")
        http = HttpProcess(env, logs)
        with ThreadPoolExecutor() as pool:
            started = pool.submit(worker.start), pool.submit(http.start)
            added = pool.submit(add_administrators, env, PEOPLE)
            for future in (*started, added):
                future.result()
        try:
            yield Stack(env, worker, http)
        finally:
            http.stop()
            worker.stop()


@pytest.fixture(scope="package")
def console_env(stack: Stack) -> dict[str, str]:
    return stack.env


@pytest.fixture(scope="package")
def console_worker(stack: Stack) -> WorkerProcess:
    return stack.worker


@pytest.fixture(scope="package")
def front_door(stack: Stack) -> HttpProcess:
    return stack.http


@pytest.fixture(scope="package")
def people(stack: Stack) -> dict[str, tuple[str, str]]:
    return PEOPLE


@pytest.fixture(scope="package")
def base_url(stack: Stack) -> str:
    return stack.http.base_url


@pytest.fixture(scope="package")
async def stuck_transfer(console_env: dict[str, str], console_worker: WorkerProcess) -> str:
    """A transfer whose withdrawal fails like a bug (the source row no longer maps): after
    its retries (about 15 s) the saga waits for an operator. Its id."""
    source, target, transfer_id = new_id("stuck-src"), new_id("stuck-dst"), new_id("t")
    async with BusClient(console_env["AMQP_URL"]) as bus:
        for account in (source, target):
            assert (await bus.call("OpenAccount", open_account(account)))["status"] == "accepted"
            await bus.call("Deposit", money(account, "50.00"))
        url = console_env["DATABASE_URL"]
        await pg_fetch(url, "UPDATE accounts SET status='bogus' WHERE id=$1", source)
        sent = await bus.call("TransferMoney", transfer(transfer_id, source, target, "5.00"))
        assert sent["status"] == "accepted", sent
    return transfer_id


@pytest.fixture(scope="package", autouse=True)
def _the_stuck_transfer_starts_first(stuck_transfer: str) -> None:
    """Requested by every console test, so the saga starts waiting before the first."""


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def bus(console_env: dict[str, str]) -> AsyncIterator[BusClient]:
    async with BusClient(console_env["AMQP_URL"]) as client:
        yield client
