"""What clients may ask of tabs, on ``tabs.commands``; and the saga's own outcome command."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from worker.bus.commands import AmountCommand, Command, CurrencyCode, EntityId

Item = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\s].*$")]


class TabCommand(Command):
    identity_fields: ClassVar[tuple[str, ...]] = ("tab_id",)

    tab_id: EntityId

    @property
    def aggregate_id(self) -> str:
        return self.tab_id


class OpenTab(TabCommand):
    """Open a tab that ``account_id`` pays and ``house_account_id`` is paid into."""

    account_id: EntityId
    house_account_id: EntityId
    currency: CurrencyCode


class AddToTab(AmountCommand):
    """Put ``quantity`` of ``item`` at ``amount`` each on the tab."""

    identity_fields: ClassVar[tuple[str, ...]] = ("tab_id",)

    tab_id: EntityId
    item: Item
    quantity: int = Field(ge=1, le=1000)

    @property
    def aggregate_id(self) -> str:
        return self.tab_id


class CloseTab(TabCommand):
    """Close the tab: its settlement saga charges the guest and credits the house."""


class RecordTabOutcome(TabCommand):
    """How the settlement ended. Dispatched by the saga only."""

    internal: ClassVar[bool] = True

    status: Literal[
        "completed", "compensated", "rejected", "needs_operator", "resolved", "conflicted"
    ]
    reason: str = Field("", max_length=2000)
