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


# --- bounded contexts: the framework names none, and no context reaches into another --------

CONTEXT_ROOTS = ("domain", "workflows", "worker/contexts")
#: Packages that belong to no context: the shared kernel, the saga base, the framework.
SHARED = {"domain": {"shared"}, "workflows": {"saga"}, "worker/contexts": set()}


def context_of(module: str) -> str | None:
    """``transfers`` for ``domain.transfers.transfer``, ``worker.contexts.transfers.saga``..."""
    parts = module.split(".")
    for root in CONTEXT_ROOTS:
        prefix = root.split("/")
        if parts[: len(prefix)] == prefix and len(parts) > len(prefix):
            name = parts[len(prefix)]
            return None if name in SHARED[root] or name.startswith("__") else name
    return None


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def framework_modules() -> list[Path]:
    """Everything of ours that is no context's: worker/ (but its contexts and the
    composition root, which lists them), the shared kernel and the saga base."""
    paths = [*(ROOT / "worker").rglob("*.py"), *(ROOT / "domain" / "shared").rglob("*.py")]
    paths += [*(ROOT / "workflows" / "saga").rglob("*.py"), ROOT / "domain" / "__init__.py"]
    paths += [ROOT / "workflows" / "__init__.py"]
    contexts = ROOT / "worker" / "contexts"
    return [p for p in paths if contexts not in p.parents and p != ROOT / "worker" / "bootstrap.py"]


def test_no_framework_module_imports_a_bounded_context() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path) if context_of(m))
        for path in framework_modules()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def context_modules() -> list[Path]:
    return [
        path
        for root in CONTEXT_ROOTS
        for path in (ROOT / root).rglob("*.py")
        if context_of(module_name(path))
    ]


def test_a_context_uses_another_only_through_its_published_module() -> None:
    offenders: dict[str, list[str]] = {}
    for path in context_modules():
        own = context_of(module_name(path))
        foreign = [
            m
            for m in imported_modules(path)
            if context_of(m) not in (None, own)
            and ".published" not in f"{m}."
            and not m.endswith(".published")
        ]
        if foreign:
            offenders[str(path.relative_to(ROOT))] = sorted(foreign)
    assert offenders == {}
