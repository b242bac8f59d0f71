"""Settings, read from environment variables (see the table in the README)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path(".data")
EMBEDDED_DATABASE_URL = f"sqlite://{DATA_DIR}/worker.sqlite3"


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
        256 * 1024, ge=1, description="Bodies larger than this are dead-lettered unread."
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
        3, ge=0, description="Retries of a failing handler before dead-lettering it."
    )
    shutdown_grace: float = Field(
        30.0, ge=0, description="Seconds in-flight messages get to finish on SIGTERM."
    )
    temporal_address: str = Field(
        "127.0.0.1:7233", description="Temporal frontend host:port (`dev` starts one here)."
    )
    temporal_namespace: str = Field("default", description="Temporal namespace of the sagas.")
    temporal_task_queue: str = Field("transfers", description="Task queue of the transfer saga.")
    temporal_ui_url: str = Field(
        "http://localhost:8233", description="Temporal UI base URL, for links in `sagas show`."
    )
    test_crash_after_commit: str | None = Field(
        None,
        description="Test hook, never for production: exit hard after committing this "
        "message id, before the ack.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def redact(url: str) -> str:
    """The URL without its password, safe to log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
