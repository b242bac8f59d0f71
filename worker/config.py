"""Settings, read from environment variables (see the table in the README)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, urlsplit, urlunsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from worker.sagas.declaration import SagaDeclaration

DATA_DIR = Path(".data")
EMBEDDED_DATABASE_URL = f"sqlite://{DATA_DIR}/worker.sqlite3"
AMQP_SCHEMES = ("amqp", "amqps")
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "asyncpg")
POSTGRES_EXAMPLE = "postgres://user:pass@host:5432/db"
#: What a worker process can do (``run --role``); each is wired in ``bootstrap``.
ROLES = ("commands", "sagas", "handlers", "http")
#: What ``run`` does without ``--role``: everything but the front door (``dev`` adds it).
DEFAULT_ROLES = ("commands", "sagas", "handlers")


def _split_scheme(url: str, example: str) -> tuple[str, str]:
    scheme, separator, rest = url.partition("://")
    if not separator or not scheme:
        raise ValueError(f"not a URL (expected something like {example})")
    return scheme, rest


def _host_and_port(rest: str) -> tuple[str | None, int | None]:
    """Host and port of ``user:pass@host:port/path?query``, ignoring the credentials.

    The userinfo is cut off first, so a password full of ``@``, ``:`` or ``[`` never
    reaches the parser (nor an error message).
    """
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host_and_port = authority.rsplit("@", 1)[-1]
    try:
        parts = urlsplit(f"//{host_and_port}")
        port = parts.port
    except ValueError as error:
        if "@" in rest:  # what the parser quotes may be half a password with a "/" in it
            raise ValueError(
                "bad host or port (percent-encode any / ? # in the password)"
            ) from None
        raise ValueError(f"bad host or port {host_and_port!r}: {error}") from None
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"port {port} is out of range (1..65535)")
    return parts.hostname or None, port


def check_amqp_url(url: str) -> str:
    """Raise ValueError unless ``url`` is amqp(s)://[user:pass@]host[:port][/vhost]."""
    example = "amqp://user:pass@host:5672/vhost"
    scheme, rest = _split_scheme(url, example)
    if scheme not in AMQP_SCHEMES:
        raise ValueError(f"scheme must be amqp or amqps, not {scheme!r} (e.g. {example})")
    host, _ = _host_and_port(rest)
    if host is None:
        raise ValueError(f"no host (e.g. {example})")
    return url


def check_database_url(url: str) -> str:
    """Raise ValueError unless ``url`` is a sqlite://path or a PostgreSQL URL with a host."""
    example = f"{POSTGRES_EXAMPLE} or sqlite://path"
    scheme, rest = _split_scheme(url, example)
    if scheme not in DATABASE_SCHEMES:
        raise ValueError(
            f"scheme must be {', '.join(DATABASE_SCHEMES[:-1])} or {DATABASE_SCHEMES[-1]}, "
            f"not {scheme!r} (e.g. {example})"
        )
    if scheme == "sqlite":
        if not rest.split("?", 1)[0]:
            raise ValueError("no file path (e.g. sqlite://.data/worker.sqlite3)")
        return url
    host, _ = _host_and_port(rest)
    query = rest.split("?", 1)[1] if "?" in rest else ""
    if host is None and not parse_qs(query).get("host"):
        raise ValueError(f"no host (e.g. {POSTGRES_EXAMPLE})")
    return url


def parse_delays(text: str) -> tuple[float, ...]:
    """``"5,30,120"`` as seconds; each must be positive and at most a day."""
    delays = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        try:
            seconds = float(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a number of seconds (e.g. 5,30,120)") from None
        if not 0 < seconds <= 86_400:
            raise ValueError(f"{part} s is out of range (more than 0, at most 86400)")
        delays.append(seconds)
    return tuple(delays)


class Settings(BaseSettings):
    """Every knob of the worker. Environment variables win over defaults."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    amqp_url: str = Field(
        "amqp://guest:guest@127.0.0.1:5672/", description="RabbitMQ connection URL."
    )
    database_url: str = Field(
        EMBEDDED_DATABASE_URL,
        description="tortoise URL: postgres://user:pass@host:5432/db, or sqlite://path "
        "(the embedded default).",
    )
    prefetch: int = Field(64, ge=1, le=10_000, description="Unacked deliveries per worker.")
    max_body_bytes: int = Field(
        256 * 1024,
        ge=1,
        description="Bodies larger than this are dead-lettered unread (AMQP) or refused with 413 "
        "(HTTP).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="DEBUG, INFO, WARNING or ERROR."
    )
    db_pool_size: int = Field(20, ge=1, description="PostgreSQL connections per worker.")
    amqp_heartbeat: int = Field(
        10, ge=0, description="Seconds between AMQP heartbeats; finds dead peers."
    )
    outbox_poll_interval: float = Field(
        1.0, gt=0, description="Seconds between outbox sweeps (commits also wake the relay)."
    )
    outbox_batch_size: int = Field(500, ge=1, description="Events published per relay round.")
    immediate_retries: int = Field(
        3,
        ge=0,
        description="In-process retries of a message failing with a transient error or a bug, "
        "before it moves on to the delayed retries.",
    )
    retry_delays: str = Field(
        "5,30,120",
        description="Seconds each delayed retry round waits in a RabbitMQ retry queue, comma "
        "separated; after the last round the message goes to the DLQ. Empty: no delayed retries.",
    )
    breaker_threshold: int = Field(
        5,
        ge=1,
        description="Consecutive transient failures after which a consumer probes with one "
        "message at a time (and spends no message's retry budget) until one succeeds.",
    )
    breaker_probe_interval: float = Field(
        2.0, gt=0, description="Seconds between probes while the consumer's breaker is open."
    )
    shutdown_grace: float = Field(
        30.0, ge=0, description="Seconds in-flight messages get to finish on SIGTERM."
    )
    retry_seal_key: str = Field(
        "",
        repr=False,
        description="Key sealing the retry count of delayed retries (empty: kept in the database).",
    )
    temporal_address: str = Field(
        "127.0.0.1:7233", description="Temporal frontend host:port (`dev` starts one here)."
    )
    temporal_namespace: str = Field("default", description="Temporal namespace of the sagas.")
    temporal_task_queue: str = Field(
        "transfers", description="Task queue of the sagas (named for the first one)."
    )
    temporal_task_queue_prefix: str = Field(
        "",
        description="Put before the task queue a saga declares for itself (`orders`), so that "
        "deployments sharing one Temporal namespace keep their sagas apart.",
    )
    temporal_ui_url: str = Field(
        "http://localhost:8233", description="Temporal UI base URL, for links in `sagas show`."
    )
    http_host: str = Field(
        "127.0.0.1", description="Address the HTTP API and console listen on (`worker http`)."
    )
    http_port: int = Field(
        8000, ge=1, le=65535, description="Port of the HTTP API and console (`worker http`)."
    )
    https_only: bool = Field(
        False,
        description="Mark the console's cookies Secure whatever the request's scheme (set it "
        "behind a proxy that terminates TLS).",
    )
    console_session_hours: float = Field(
        8.0, gt=0, description="Hours a console login lasts before the operator logs in again."
    )
    inbox_retention_days: int = Field(
        7,
        ge=1,
        description="Days a processed message id stays in the inbox; keep it longer than a "
        "duplicate can plausibly arrive (a later copy is processed again).",
    )
    outbox_retention_hours: int = Field(
        24,
        ge=0,
        description="Hours a sent event stays in the outbox; unsent ones are never removed.",
    )
    retention_sweep_interval: float = Field(
        300.0, gt=0, description="Seconds between retention sweeps of the inbox and outbox."
    )
    retention_batch_size: int = Field(
        5000, ge=1, description="Rows per retention DELETE statement (keeps each lock short)."
    )
    extra_contexts: str = Field(
        "",
        description="More bounded contexts to load beside the service's own, as "
        "module:NAME pairs separated by commas (for a context kept outside this package).",
    )
    test_crash_after_commit: str | None = Field(
        None,
        description="Test hook, never for production: exit hard after committing this "
        "message id, before the ack.",
    )
    test_crash_after_publish: str | None = Field(
        None,
        description="Test hook, never for production: exit hard after the broker confirmed "
        "the event with this event id, before it is marked as sent.",
    )
    handler_catch_up_seconds: float = Field(
        3.0,
        gt=0,
        description="An event waiting this long in the log without a handler applying it "
        "(its queue did not bring it) is applied from the log.",
    )
    test_fail_handler: str | None = Field(
        None,
        description="Test hook, never for production: this event handler fails on every "
        "event (while the file TEST_FAIL_HANDLER_WHILE names exists, when it is set).",
    )
    test_fail_handler_while: str | None = Field(
        None, description="Test hook: the file whose presence keeps TEST_FAIL_HANDLER failing."
    )

    def handler_fails(self, name: str) -> bool:
        """The ``TEST_FAIL_HANDLER`` hook: whether handler ``name`` is to fail right now."""
        if self.test_fail_handler != name:
            return False
        flag = self.test_fail_handler_while
        return flag is None or Path(flag).exists()

    @field_validator("amqp_url")
    @classmethod
    def _valid_amqp_url(cls, value: str) -> str:
        return check_amqp_url(value)

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        return check_database_url(value)

    @field_validator("retry_delays")
    @classmethod
    def _valid_retry_delays(cls, value: str) -> str:
        parse_delays(value)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def retry_delay_seconds(self) -> tuple[float, ...]:
        return parse_delays(self.retry_delays)

    def task_queue_of(self, saga: SagaDeclaration) -> str:
        """The Temporal task queue ``saga`` runs on."""
        if saga.task_queue is None:
            return self.temporal_task_queue
        return f"{self.temporal_task_queue_prefix}{saga.task_queue}"

    @property
    def extra_context_names(self) -> tuple[str, ...]:
        return split_names(self.extra_contexts)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> str | None:
        """The file of a sqlite DATABASE_URL as tortoise reads it (``:memory:`` stays so)."""
        if not self.is_sqlite:
            return None
        return self.database_url.split("://", 1)[1].split("?", 1)[0]


def split_names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def extra_contexts_from_environment() -> tuple[str, ...]:
    """``EXTRA_CONTEXTS`` alone (any case, as the settings read it), unvalidated."""
    return split_names(
        next((v for k, v in os.environ.items() if k.upper() == "EXTRA_CONTEXTS"), "")
    )


def redact(url: str) -> str:
    """The URL without its password, safe to log."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # unparsable (say a lone "["): hide everything before the host
        scheme, separator, rest = url.partition("://")
        authority, slash, path = rest.partition("/")
        if not separator or "@" not in authority:
            return url
        return f"{scheme}://***@{authority.rsplit('@', 1)[1]}{slash}{path}"
    if password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
