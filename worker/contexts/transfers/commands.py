"""Commands about transfers: one public (start one), one for the saga's own use."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from worker.bus.commands import AmountCommand, Command, EntityId


class TransferMoney(AmountCommand):
    """Move ``amount`` from ``from_account_id`` to ``to_account_id``, as a saga."""

    identity_fields: ClassVar[tuple[str, ...]] = (
        "transfer_id",
        "from_account_id",
        "to_account_id",
    )

    transfer_id: EntityId
    from_account_id: EntityId
    to_account_id: EntityId

    @field_validator("to_account_id")
    @classmethod
    def _two_different_accounts(cls, to_account_id: str, info: ValidationInfo) -> str:
        if to_account_id == info.data.get("from_account_id"):
            raise ValueError("a transfer needs two different accounts")
        return to_account_id

    @property
    def aggregate_id(self) -> str:
        return self.transfer_id


class RecordTransferOutcome(Command):
    """Record where a transfer's saga stands. Dispatched by the saga (and by its starter,
    when the saga's id belongs to another request: ``conflicted``) only."""

    internal: ClassVar[bool] = True
    identity_fields: ClassVar[tuple[str, ...]] = ("transfer_id",)

    transfer_id: EntityId
    state: Literal[
        "completed", "rejected", "compensated", "needs_operator", "resolved", "conflicted"
    ]
    reason: str = Field("", max_length=2000)

    @property
    def aggregate_id(self) -> str:
        return self.transfer_id
