"""The catalog context's own settings, read from the environment when a handler needs them."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CatalogSettings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    catalog_reservation_hold_seconds: int = Field(
        900,
        ge=1,
        description="Seconds a stock reservation holds its units for an order, from the "
        "last time the order reserved (or renewed) them.",
    )


def reservation_hold() -> timedelta:
    """How long a reservation made now holds (``CATALOG_RESERVATION_HOLD_SECONDS``)."""
    return timedelta(seconds=CatalogSettings().catalog_reservation_hold_seconds)
