"""The README stays true: its configuration table and first commands match the code."""

from __future__ import annotations

import re
from pathlib import Path

from worker.bootstrap import contexts
from worker.config import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_configuration_table_lists_exactly_the_settings() -> None:
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.M))
    declared = [Settings, *(c.settings for c in contexts(extra=()).all if c.settings)]
    assert documented == {name.upper() for kind in declared for name in kind.model_fields}


def test_the_readme_starts_with_the_run_and_test_commands() -> None:
    first_block = README.split("```", 2)[1].splitlines()[1:]
    commands = [line.split("#")[0].strip() for line in first_block if line.strip()]
    assert commands == ["make run", "make test"]


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "make test" in ci
