"""Tortoise's apps: the framework's, then one per context that declares tables."""

from __future__ import annotations

import pytest

from tests.wiring import CONTEXTS
from worker.config import Settings
from worker.context import BoundedContext, ContextConflict, Contexts
from worker.persistence import database

SETTINGS = Settings(database_url="sqlite://:memory:")


def test_the_framework_and_each_context_with_tables_are_apps_of_their_own() -> None:
    apps = database.tortoise_config(SETTINGS, CONTEXTS)["apps"]

    assert {label: (app["models"], app["migrations"]) for label, app in apps.items()} == {
        "worker": (["worker.persistence.models"], "worker.persistence.migrations"),
        "accounts": (
            ["worker.contexts.accounts.persistence"],
            "worker.contexts.accounts.migrations",
        ),
        "transfers": (
            ["worker.contexts.transfers.persistence"],
            "worker.contexts.transfers.migrations",
        ),
        **{
            name: ([f"worker.contexts.{name}.persistence"], f"worker.contexts.{name}.migrations")
            for name in ("customers", "catalog", "orders")
        },
    }
    assert {app["default_connection"] for app in apps.values()} == {"default"}


def test_a_context_without_tables_is_no_app() -> None:
    contexts = Contexts([BoundedContext(name="pings", handlers={})])

    assert list(database.tortoise_apps(contexts)) == ["worker"]


def test_a_context_may_not_take_the_framework_s_app_label() -> None:
    impostor = BoundedContext(
        name="worker", handlers={}, models="somewhere.models", migrations="somewhere.migrations"
    )

    with pytest.raises(ContextConflict, match="'worker' is the framework's"):
        database.tortoise_apps(Contexts([impostor]))
