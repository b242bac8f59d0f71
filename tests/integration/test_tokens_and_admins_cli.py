"""The tokens and admins CLI groups, on one database (their storage is tested on both in
test_tokens_and_administrators.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from tests.e2e.harness import ROOT, run_cli
from tests.integration.context_storage import migrated_database
from tests.wiring import CONTEXTS
from worker.ops.audit_log import list_actions
from worker.web import admins, tokens

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def cli_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A fresh, migrated SQLite database, with tortoise connected to it."""
    async with migrated_database("sqlite", "cli", CONTEXTS, tmp_path_factory) as url:
        yield url


def test_the_cli_prints_a_new_token_once_as_json_and_revokes_it(cli_url: str) -> None:
    env = {"DATABASE_URL": cli_url}
    made = run_cli(env, "tokens", "create", "cli-made", "--scope", "read", "--json")
    assert made.returncode == 0, made.stderr
    shown = json.loads(made.stdout)
    assert shown["name"] == "cli-made" and shown["scope"] == "read"
    assert shown["token"].startswith(tokens.PREFIX)

    listed = run_cli(env, "tokens", "list", "--json")
    assert shown["token"] not in listed.stdout
    assert {"name": "cli-made", "scope": "read", "revoked_at": None} in [
        {key: row[key] for key in ("name", "scope", "revoked_at")}
        for row in json.loads(listed.stdout)
    ]
    assert run_cli(env, "tokens", "revoke", "cli-made").returncode == 0
    again = run_cli(env, "tokens", "revoke", "no-such-token")
    assert (again.returncode, again.stderr.strip()) == (1, "error: no token named 'no-such-token'")


def test_the_cli_refuses_a_bad_scope_with_one_line(cli_url: str) -> None:
    refused = run_cli({"DATABASE_URL": cli_url}, "tokens", "create", "x", "--scope", "admin")
    assert refused.returncode == 2
    assert refused.stderr.strip() == "error: unknown scope 'admin'; choose from read, write"


async def test_the_cli_adds_an_administrator_with_a_password_from_standard_input(
    cli_url: str,
) -> None:
    added = subprocess.run(
        [sys.executable, "-m", "worker", "admins", "add", "dora", "--role", "operator"],
        input="dora's long password\n",
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": cli_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    assert "dora's long password" not in added.stdout + added.stderr
    assert (await admins.log_in("dora", "dora's long password")).role == "operator"
    assert [e.target for e in await list_actions(action="admins")] == ["administrator:dora"]


def test_the_cli_refuses_a_short_password(cli_url: str) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "worker", "admins", "add", "eve", "--role", "viewer"],
        input="short\n",
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": cli_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert refused.stderr.strip() == "error: the password needs at least 8 characters"
