"""Ports the domain needs from the outside world, implemented by adapters."""

from __future__ import annotations

from typing import Protocol

from domain.accounts import Account


class AccountRepository(Protocol):
    """Loads and stores Account aggregates.

    ``get`` returns ``None`` for an unknown id. ``add`` registers a new
    aggregate; changes to loaded ones are saved by the unit of work on commit,
    with a version check that raises :class:`domain.errors.ConcurrencyConflict`.
    """

    async def get(self, account_id: str) -> Account | None: ...

    def add(self, account: Account) -> None: ...

    async def list(self) -> list[Account]: ...
