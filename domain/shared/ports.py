"""Ports the domain needs from the outside world, implemented by adapters."""

from __future__ import annotations

from typing import Protocol, TypeVar

from domain.shared.model import AggregateRoot

A = TypeVar("A", bound=AggregateRoot)


class Repository(Protocol[A]):
    """Loads and stores aggregates of one type.

    ``get`` returns ``None`` for an unknown id. ``add`` registers a new
    aggregate; changes to loaded ones are saved by the unit of work on commit,
    with a version check that raises :class:`domain.shared.errors.ConcurrencyConflict`.
    """

    async def get(self, id: str) -> A | None: ...

    def add(self, aggregate: A) -> None: ...

    async def list(self) -> list[A]: ...
