"""The outcome every command gets back, and the settings the worker starts with."""

from __future__ import annotations

import dataclasses
import json

import pytest
from pydantic import ValidationError

from worker.bus.outcomes import ErrorInfo, Outcome, Status
from worker.config import EMBEDDED_DATABASE_URL, Settings, redact

# --- Outcome -------------------------------------------------------------------------


def test_an_accepted_outcome_serialises_with_a_null_error() -> None:
    assert Outcome.accepted("msg-1").to_json() == {
        "status": "accepted",
        "message_id": "msg-1",
        "error": None,
        "duplicate": False,
    }


def test_a_rejected_outcome_serialises_its_error_code_and_message() -> None:
    outcome = Outcome.rejected("msg-2", "insufficient_funds", "account acc-1 holds 1.00 EUR")

    assert outcome.to_json() == {
        "status": "rejected",
        "message_id": "msg-2",
        "error": {"code": "insufficient_funds", "message": "account acc-1 holds 1.00 EUR"},
        "duplicate": False,
    }


def test_an_invalid_outcome_serialises_its_error_code_and_message() -> None:
    outcome = Outcome.invalid("msg-3", "schema_validation_failed", "Deposit: amount: required")

    assert outcome.to_json() == {
        "status": "invalid",
        "message_id": "msg-3",
        "error": {"code": "schema_validation_failed", "message": "Deposit: amount: required"},
        "duplicate": False,
    }


@pytest.mark.parametrize(
    "outcome",
    [
        Outcome.accepted("m"),
        Outcome.rejected("m", "account_frozen", "frozen"),
        Outcome.invalid("m", "unknown_command", 'unknown command "X" — ünïcode'),
    ],
    ids=["accepted", "rejected", "invalid"],
)
def test_the_json_shape_has_exactly_four_keys_and_survives_a_json_round_trip(
    outcome: Outcome,
) -> None:
    body = outcome.to_json()

    assert set(body) == {"status", "message_id", "error", "duplicate"}
    assert json.loads(json.dumps(body)) == body


def test_a_duplicate_serialises_like_the_original_answer_marked_as_a_replay() -> None:
    original = Outcome.rejected("msg-4", "account_closed", "account acc-1 is closed")

    duplicate = original.as_duplicate()

    assert duplicate.duplicate is True
    assert original.duplicate is False
    assert duplicate.to_json() == {**original.to_json(), "duplicate": True}
    assert (duplicate.status, duplicate.message_id, duplicate.error) == (
        original.status,
        original.message_id,
        original.error,
    )


def test_outcomes_are_immutable_values() -> None:
    outcome = Outcome.accepted("msg-5")

    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.status = Status.REJECTED  # type: ignore[misc]
    assert outcome == Outcome(Status.ACCEPTED, "msg-5", None, False)
    assert Outcome.rejected("m", "c", "x").error == ErrorInfo("c", "x")


def test_status_values_are_the_strings_on_the_wire() -> None:
    assert [s.value for s in Status] == ["accepted", "rejected", "invalid"]


# --- redact ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "secret", "expected"),
    [
        ("amqp://guest:secret@host:5672/", "secret", "amqp://guest:***@host:5672/"),
        (
            "postgres://worker:s3cr3t@db.internal:5432/accounts?sslmode=require",
            "s3cr3t",
            "postgres://worker:***@db.internal:5432/accounts?sslmode=require",
        ),
        ("amqps://user:pw@rabbit/vhost", "pw", "amqps://user:***@rabbit/vhost"),
        ("postgres://:only-password@db/accounts", "only-password", "postgres://:***@db/accounts"),
        ("amqp://user:p@ss:w0rd@host:5672/", "p@ss:w0rd", "amqp://user:***@host:5672/"),
    ],
)
def test_redact_hides_the_password_and_keeps_the_rest(url: str, secret: str, expected: str) -> None:
    redacted = redact(url)

    assert secret not in redacted
    assert redacted == expected


@pytest.mark.parametrize(
    "url",
    [
        "amqp://guest@host:5672/",
        "amqp://host/",
        "postgres://db.internal:5432/accounts",
        EMBEDDED_DATABASE_URL,
        "sqlite://:memory:",
        "",
    ],
)
def test_redact_leaves_a_url_without_a_password_alone(url: str) -> None:
    assert redact(url) == url


def test_redact_keeps_an_ipv6_host_intact() -> None:
    assert redact("postgres://u:secret@[::1]:5432/db") == "postgres://u:***@[::1]:5432/db"


# --- Settings ----------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No setting comes from the environment unless the test sets it."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_settings_default_to_the_embedded_database_and_a_local_broker(
    clean_env: pytest.MonkeyPatch,
) -> None:
    settings = Settings()

    assert settings.database_url == EMBEDDED_DATABASE_URL
    assert settings.is_sqlite
    assert settings.amqp_url == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.prefetch == 64
    assert settings.max_body_bytes == 256 * 1024


def test_settings_read_environment_variables(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PREFETCH", "7")
    clean_env.setenv("MAX_BODY_BYTES", "1024")
    clean_env.setenv("DATABASE_URL", "postgres://worker:pw@db:5432/accounts")
    clean_env.setenv("AMQP_URL", "amqp://u:p@rabbit:5672/")
    clean_env.setenv("OUTBOX_POLL_INTERVAL", "0.25")
    clean_env.setenv("IMMEDIATE_RETRIES", "0")

    settings = Settings()

    assert settings.prefetch == 7
    assert settings.max_body_bytes == 1024
    assert settings.database_url == "postgres://worker:pw@db:5432/accounts"
    assert not settings.is_sqlite
    assert settings.amqp_url == "amqp://u:p@rabbit:5672/"
    assert settings.outbox_poll_interval == 0.25
    assert settings.immediate_retries == 0


def test_settings_variable_names_are_case_insensitive(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("prefetch", "9")

    assert Settings().prefetch == 9


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PREFETCH", "0"),
        ("PREFETCH", "many"),
        ("PREFETCH", "10001"),
        ("MAX_BODY_BYTES", "0"),
        ("OUTBOX_POLL_INTERVAL", "0"),
        ("IMMEDIATE_RETRIES", "-1"),
    ],
)
def test_settings_refuse_out_of_range_values(
    clean_env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    clean_env.setenv(variable, value)

    with pytest.raises(ValidationError, match=variable.lower()):
        Settings()
