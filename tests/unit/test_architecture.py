"""The dependency arrow points inward: checked on every import statement."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = {
    "tortoise",
    "aio_pika",
    "aiormq",
    "temporalio",
    "pydantic",
    "pydantic_settings",
    "asyncpg",
    "aiosqlite",
    "typer",
    "pika",
}


def imported_top_levels(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("forbidden", sorted({"worker", "workflows", "tests"} | FRAMEWORKS))
def test_the_domain_imports_nothing_of_ours_and_no_framework(forbidden: str) -> None:
    offenders = [f for f, names in imported_top_levels("domain").items() if forbidden in names]
    assert offenders == []


def test_workflows_import_the_domain_at_most() -> None:
    for path, names in imported_top_levels("workflows").items():
        assert not names & {"worker", "tests"}, path


def test_nothing_connects_at_import_time() -> None:
    import importlib

    for module in ("worker.bootstrap", "worker.cli.main", "worker.service"):
        importlib.import_module(module)
    from tortoise import Tortoise

    assert not Tortoise._inited
