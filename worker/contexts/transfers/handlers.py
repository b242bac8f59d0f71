"""The transfers context's command handlers: record a request, record where its saga ended."""

from __future__ import annotations

from domain.transfers.errors import TransferNotFound
from domain.transfers.ports import TransferRepository
from domain.transfers.transfer import Transfer, TransferState
from worker.bus.commands import Command
from worker.bus.messagebus import Handler
from worker.bus.unit_of_work import UnitOfWork
from worker.contexts.transfers import commands


def transfers(uow: UnitOfWork) -> TransferRepository:
    return uow.repository(Transfer)


async def transfer_money(cmd: commands.TransferMoney, uow: UnitOfWork) -> None:
    """Record the request; its TransferRequested event starts the saga (from the outbox)."""
    existing = await transfers(uow).get(cmd.transfer_id)
    if existing is not None:
        existing.require_same_request(cmd.from_account_id, cmd.to_account_id, cmd.money)
        return
    transfers(uow).add(
        Transfer.request(cmd.transfer_id, cmd.from_account_id, cmd.to_account_id, cmd.money)
    )


async def record_transfer_outcome(cmd: commands.RecordTransferOutcome, uow: UnitOfWork) -> None:
    transfer = await transfers(uow).get(cmd.transfer_id)
    if transfer is None:
        raise TransferNotFound(f"transfer {cmd.transfer_id} does not exist")
    transfer.end(TransferState(cmd.state), cmd.reason)


HANDLERS: dict[type[Command], Handler] = {
    commands.TransferMoney: transfer_money,
    commands.RecordTransferOutcome: record_transfer_outcome,
}
