"""docker-compose.yml and the Dockerfile agree with the worker's Settings.

No Docker engine is needed: the files are read as YAML / text and checked against
``worker.config.Settings``, so a renamed setting or a mistyped URL fails here, not at
``docker compose up``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from worker.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def worker_env(services: dict[str, dict[str, Any]]) -> dict[str, str]:
    return environment_of(services["worker"])


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read os.environ too: keep this machine's variables out of the comparison."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(name, raising=False)


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, whether written as a mapping or as a list of KEY=VALUE."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = (item.split("=", 1) for item in raw)
        return {key: value for key, value in pairs}
    return {key: "" if value is None else str(value) for key, value in raw.items()}


def settings_from(environment: dict[str, str]) -> Settings:
    """Settings as the container would build them from these variables (field names lowered)."""
    values: dict[str, Any] = {key.lower(): value for key, value in environment.items()}
    return Settings(**values)


def container_ports(service: dict[str, Any]) -> set[int]:
    """The ports a service listens on inside the compose network (``ports`` and ``expose``)."""
    found: set[int] = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            found.add(int(entry["target"]))
            continue
        target = str(entry).split("/", 1)[0].rsplit(":", 1)[-1]
        found.add(int(target))
    for entry in service.get("expose", []):
        found.add(int(str(entry).split("/", 1)[0]))
    return found


def seconds(duration: str | int | float) -> float:
    """A compose duration (``45s``, ``1m30s``, ``500ms``) in seconds."""
    if isinstance(duration, int | float):
        return float(duration)
    text = duration.strip()
    parts = _DURATION_PART.findall(text)
    assert parts, f"not a compose duration: {duration!r}"
    assert "".join(number + unit for number, unit in parts) == text, (
        f"not a compose duration: {duration!r}"
    )
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    if pending:
        logical.append(pending)
    pairs = []
    for statement in logical:
        keyword, _, arguments = statement.partition(" ")
        pairs.append((keyword.upper(), arguments.strip()))
    return pairs


def test_the_compose_file_uses_the_compose_spec_without_a_version_key(
    compose: dict[str, Any],
) -> None:
    assert "version" not in compose
    assert {"rabbitmq", "postgres", "worker"} <= set(compose["services"])


def test_every_environment_variable_given_to_the_worker_names_a_settings_field(
    worker_env: dict[str, str],
) -> None:
    fields = {name.lower() for name in Settings.model_fields}
    unknown = sorted(name for name in worker_env if name.lower() not in fields)
    assert not unknown, f"Settings ignores these (extra='ignore'), so they do nothing: {unknown}"


def test_the_worker_is_told_where_the_broker_and_the_database_are(
    worker_env: dict[str, str],
) -> None:
    # The defaults (127.0.0.1 and an embedded SQLite file) are wrong inside a container.
    assert {"AMQP_URL", "DATABASE_URL"} <= set(worker_env)


def test_settings_built_from_the_worker_environment_validate(
    worker_env: dict[str, str], clean_environment: None
) -> None:
    settings = settings_from(worker_env)
    assert settings.amqp_url == worker_env["AMQP_URL"]
    assert settings.database_url == worker_env["DATABASE_URL"]
    assert not settings.is_sqlite


def test_the_worker_amqp_url_points_at_the_rabbitmq_service_and_a_port_it_exposes(
    services: dict[str, dict[str, Any]], worker_env: dict[str, str]
) -> None:
    url = urlsplit(worker_env["AMQP_URL"])
    assert url.scheme == "amqp"
    assert url.hostname == "rabbitmq"
    assert (url.port or 5672) in container_ports(services["rabbitmq"])


def test_the_worker_database_url_is_the_postgres_service_with_its_credentials(
    services: dict[str, dict[str, Any]], worker_env: dict[str, str]
) -> None:
    postgres = services["postgres"]
    postgres_env = environment_of(postgres)
    url = urlsplit(worker_env["DATABASE_URL"])
    assert url.scheme == "postgres"
    assert url.hostname == "postgres"
    assert (url.port or 5432) in container_ports(postgres)
    assert url.username == postgres_env.get("POSTGRES_USER", "postgres")
    assert url.password == postgres_env["POSTGRES_PASSWORD"]
    assert url.path.lstrip("/") == postgres_env.get("POSTGRES_DB", url.username)


def test_the_postgres_data_lives_in_a_named_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    named = set(compose.get("volumes") or {})
    sources = {str(volume).split(":", 1)[0] for volume in services["postgres"].get("volumes", [])}
    assert sources & named


def test_the_worker_waits_for_every_backing_service_to_be_healthy(
    services: dict[str, dict[str, Any]],
) -> None:
    depends_on = services["worker"]["depends_on"]
    assert isinstance(depends_on, dict), "the short list form cannot wait for health"
    for name in ("rabbitmq", "postgres", "temporal"):
        assert depends_on[name]["condition"] == "service_healthy"


@pytest.mark.parametrize(
    ("service", "probe"),
    [
        ("rabbitmq", "rabbitmq-diagnostics"),
        ("postgres", "pg_isready"),
        ("temporal", "cluster health"),
    ],
)
def test_every_backing_service_has_a_healthcheck(
    services: dict[str, dict[str, Any]], service: str, probe: str
) -> None:
    healthcheck = services[service]["healthcheck"]
    assert not healthcheck.get("disable", False)
    test = healthcheck["test"]
    command = " ".join(test) if isinstance(test, list) else str(test)
    assert probe in command


def test_the_worker_restarts_unless_stopped(services: dict[str, dict[str, Any]]) -> None:
    assert services["worker"]["restart"] == "unless-stopped"
    assert services["worker"]["build"] in (".", {"context": "."})


def test_the_worker_stop_grace_period_exceeds_its_shutdown_grace(
    services: dict[str, dict[str, Any]], worker_env: dict[str, str], clean_environment: None
) -> None:
    # SHUTDOWN_GRACE as the worker sees it: the default unless compose overrides it.
    settings = settings_from(worker_env)
    # Docker's default of 10 s would SIGKILL the worker mid-message.
    assert seconds(services["worker"]["stop_grace_period"]) > settings.shutdown_grace


def test_the_dockerfile_cmd_runs_the_worker_with_migrations() -> None:
    commands = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "CMD"]
    assert commands, "the Dockerfile has no CMD"
    assert json.loads(commands[-1]) == ["python", "-m", "worker", "run", "--migrate"]


def test_the_dockerfile_builds_on_python_3_11_slim_and_runs_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users, "the Dockerfile has no USER"
    assert users[-1].split(":", 1)[0] not in {"root", "0"}


def test_the_dockerfile_copies_the_packages_and_installs_the_project() -> None:
    instructions = dockerfile_instructions()
    copied = " ".join(arguments for keyword, arguments in instructions if keyword == "COPY")
    for needed in ("pyproject.toml", "README.md", "domain/", "worker/", "workflows/"):
        assert needed in copied
    runs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    assert "pip install --no-cache-dir ." in runs


def test_the_dockerignore_keeps_the_virtualenv_and_local_data_out_of_the_image() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".git", ".data"} <= ignored
    assert not ignored & {"pyproject.toml", "README.md", "domain", "worker", "workflows"}


def test_the_temporal_dev_server_registers_the_saga_search_attributes_and_serves_the_ui(
    services: dict[str, dict[str, Any]],
) -> None:
    from workflows.transfers.shared import SEARCH_ATTRIBUTES

    temporal = services["temporal"]
    command = " ".join(temporal["command"])
    for key in SEARCH_ATTRIBUTES:
        assert f"--search-attribute={key.name}=Keyword" in command
    assert "--db-filename=" in command, "sagas survive a restart of the container"
    published = {str(port).split(":")[0] for port in temporal["ports"]}
    assert {"7233", "8233"} <= published
    worker_env = services["worker"]["environment"]
    assert worker_env["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_the_http_front_door_runs_the_same_image_on_the_worker_settings_and_port_8000(
    services: dict[str, dict[str, Any]], worker_env: dict[str, str], clean_environment: None
) -> None:
    http = services["http"]
    environment = environment_of(http)
    settings = settings_from(environment)

    assert http["build"] in (".", {"context": "."})
    assert http["command"] == ["python", "-m", "worker", "http"]
    assert {k: v for k, v in environment.items() if k in worker_env} == worker_env
    assert {name.lower() for name in environment} <= set(Settings.model_fields)
    assert settings.http_host == "0.0.0.0", "inside a container it must listen beyond loopback"
    assert settings.http_port in container_ports(http)
    assert "/health/live" in " ".join(http["healthcheck"]["test"])
    assert http["depends_on"]["worker"]["condition"] == "service_started"
    for name in ("rabbitmq", "postgres", "temporal"):
        assert http["depends_on"][name]["condition"] == "service_healthy"
