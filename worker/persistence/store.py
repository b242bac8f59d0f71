"""How a context tells the framework to store one of its aggregates: the root's row,
the mapper both ways, and the rows of its child entities."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tortoise.models import Model

from domain.shared.model import AggregateRoot

A = TypeVar("A", bound=AggregateRoot)

#: The child rows of one root, by child table (``ChildRows.row``), ordered by their key.
ChildRowsOf = Mapping[type[Model], Sequence[Model]]


@dataclass(frozen=True)
class ChildRows(Generic[A]):
    """The rows of an aggregate's child entities (an order's line items).

    Saved with the root, in the same transaction, after the root's version check:
    the root's rows are replaced as a whole, so a removed child leaves no row.
    """

    row: type[Model]
    #: The column holding the root's id.
    parent_key: str
    #: The columns of each child row, the parent key excluded (the store sets it).
    rows_of: Callable[[A], Sequence[dict[str, Any]]]
    #: The column the rows are read back in order of.
    order_by: str = "id"


@dataclass(frozen=True)
class AggregateStore(Generic[A]):
    """One aggregate type's storage: read by the unit of work, declared by its context.

    ``to_domain`` takes the root's row and, by child table, the child rows;
    ``columns_of`` gives the root row's columns, version excluded (the
    repository sets it and checks it).
    """

    aggregate: type[A]
    row: type[Model]
    to_domain: Callable[[Any, ChildRowsOf], A]
    columns_of: Callable[[A], dict[str, Any]]
    children: tuple[ChildRows[A], ...] = ()

    @staticmethod
    def flat(
        aggregate: type[A],
        row: type[Model],
        to_domain: Callable[[Any], A],
        columns_of: Callable[[A], dict[str, Any]],
    ) -> AggregateStore[A]:
        """The store of an aggregate that is one row (an account)."""
        return AggregateStore(aggregate, row, lambda root, _children: to_domain(root), columns_of)
