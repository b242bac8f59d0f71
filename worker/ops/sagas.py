"""``worker sagas``: find transfer sagas and settle the ones waiting for an operator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from worker.cli.common import fail, load_settings, print_json, run_async, shown, valid_transfer_id
from worker.config import Settings
from worker.ops.audit import audit_trail, record_done
from worker.ops.audit_log import default_operator
from worker.sagas import control as sagas
from worker.sagas.client import connect
from workflows.saga.types import OperatorAction, SagaStatus
from workflows.transfers.shared import workflow_id

sagas_app = typer.Typer(
    help="Transfer sagas: list, show, and operator actions.", no_args_is_help=True
)
T = TypeVar("T")
#: Checked before anything connects: an id no transfer can have is a usage mistake (exit 2).
TRANSFER_ID = typer.Argument(..., metavar="TRANSFER_ID", callback=valid_transfer_id)


def _with_client(settings: Settings, work: Callable[[Client], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            client = await connect(settings)
        except RuntimeError as error:
            fail(f"cannot reach Temporal at {settings.temporal_address}: {error}")
        try:
            return await work(client)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                fail(f"no such saga: {error.message}")
            fail(f"Temporal refused: {error.message}")
        except WorkflowUpdateFailedError as error:
            fail(f"the saga refused: {error.cause}")
        except sagas.SagaEnded as error:
            fail(str(error))

    return run_async(main())


def ui_link(settings: Settings, transfer_id: str) -> str:
    return (
        f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}"
        f"/workflows/{workflow_id(transfer_id)}"
    )


@sagas_app.command("list")
def list_command(
    state: str = typer.Option(None, "--state", help=f"One of: {', '.join(sagas.STATES)}."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List sagas, newest first, optionally in one state (a visibility query)."""
    if state is not None and state not in sagas.STATES:
        fail(f"unknown state {shown(state)}; choose from {', '.join(sagas.STATES)}", 2)
    settings = load_settings()
    found = _with_client(settings, lambda client: sagas.list_sagas(client, state))
    if as_json:
        print_json([s.to_json() for s in found])
        return
    for saga in found:
        typer.echo(
            f"{saga.transfer_id:<24} {saga.state:<15} {saga.execution:<10} "
            f"{saga.started_at:%Y-%m-%d %H:%M:%S}"
        )


def _status_json(
    summary: sagas.SagaSummary, status: SagaStatus | None, link: str
) -> dict[str, Any]:
    return {
        **summary.to_json(),
        "ui": link,
        "status": None if status is None else status.model_dump(mode="json"),
    }


@sagas_app.command("show")
def show(
    transfer_id: str = TRANSFER_ID,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """State, steps, last error, and the link to the saga's page in the Temporal UI."""
    settings = load_settings()
    summary, status = _with_client(
        settings, lambda client: sagas.describe_saga(client, transfer_id)
    )
    link = ui_link(settings, transfer_id)
    if as_json:
        print_json(_status_json(summary, status, link))
        return
    typer.echo(f"transfer {summary.transfer_id}: {summary.state} ({summary.execution})")
    if status is not None:
        if status.waiting_step:
            typer.echo(f"waiting on: {status.waiting_step}")
        if status.last_error:
            typer.echo(f"last error: {status.last_error}")
        for step in status.steps:
            detail = f"  {step.detail}" if step.detail else ""
            typer.echo(
                f"  {step.at:%H:%M:%S} {step.step:<22} {step.status:<9} #{step.attempt}{detail}"
            )
    typer.echo(f"ui: {link}")


def _saga_state(summary: sagas.SagaSummary, status: SagaStatus | None) -> dict[str, Any]:
    """What the audit record keeps of a saga, before and after an action."""
    return {
        "state": summary.state,
        "execution": summary.execution,
        "waiting_step": None if status is None else status.waiting_step,
        "last_error": None if status is None else status.last_error,
    }


def _operator_action(action: str, transfer_id: str, reason: str, operator: str | None) -> None:
    """Act on a saga, then write the audit record (refused up front if it cannot be written)."""
    settings = load_settings()
    try:
        decision = OperatorAction(reason=reason, operator=operator or default_operator())
    except ValidationError as error:
        fail(f"invalid --reason or --operator: {error.errors()[0]['msg']}", 2)

    async def work(client: Client) -> str:
        async with audit_trail(settings):
            before = _saga_state(*await sagas.describe_saga(client, transfer_id))
            done = action
            if action == "retry" and await sagas.is_broken(client, transfer_id):
                transfer = await sagas.original_input(client, transfer_id)
                await sagas.restart(client, transfer, settings.temporal_task_queue)
                done, message = "restart", "restarted (a fresh run with the same input)"
            else:
                status = await sagas.act(client, transfer_id, action, decision)
                message = f"{action} accepted; the saga was {status.state}"
            after = _saga_state(*await sagas.describe_saga(client, transfer_id))
            await record_done(
                settings,
                f"transfer {transfer_id}: {message}",
                decision.operator,
                f"saga.{done}",
                transfer_id,
                decision.reason,
                before,
                after,
            )
            return message

    typer.echo(f"transfer {transfer_id}: {_with_client(settings, work)}")


REASON = typer.Option(
    ..., "--reason", help="Why: recorded in the saga's history and the audit log."
)
OPERATOR = typer.Option(None, "--operator", help="Who (default: your user name).")


@sagas_app.command("retry")
def retry(transfer_id: str = TRANSFER_ID, reason: str = REASON, operator: str = OPERATOR) -> None:
    """Run the failed step again; restart a saga whose workflow failed or was terminated."""
    _operator_action("retry", transfer_id, reason, operator)


@sagas_app.command("compensate")
def compensate(
    transfer_id: str = TRANSFER_ID, reason: str = REASON, operator: str = OPERATOR
) -> None:
    """Give up going forward and undo what was done."""
    _operator_action("compensate", transfer_id, reason, operator)


@sagas_app.command("resolve")
def resolve(transfer_id: str = TRANSFER_ID, reason: str = REASON, operator: str = OPERATOR) -> None:
    """Mark the transfer as settled by hand; the saga ends."""
    _operator_action("resolve", transfer_id, reason, operator)
