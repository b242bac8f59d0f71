"""The check engine: runs every context's reconciliation checks over one snapshot."""

from __future__ import annotations

from typing import Protocol


class Check(Protocol):
    """One context's reconciliation check."""

    name: str
