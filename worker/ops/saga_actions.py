"""``sagas retry|compensate|resolve``: an operator settles a saga, with its audit record."""

from __future__ import annotations

from typing import Any

import typer
from pydantic import ValidationError
from temporalio.client import Client

from worker.cli.common import fail, load_settings
from worker.config import Settings
from worker.ops.audit import audit_trail, record_done
from worker.ops.audit_log import default_operator
from worker.ops.saga_common import KIND, SAGA_ID, saga_of, with_client
from worker.sagas import control as sagas
from worker.sagas.declaration import SagaDeclaration
from worker.sagas.identity import database_identity
from worker.sagas.restart import restart
from worker.sagas.settling import view_saga
from workflows.saga.types import OperatorAction, SagaStatus

REASON = typer.Option(
    ..., "--reason", help="Why: recorded in the saga's history and the audit log."
)
OPERATOR = typer.Option(None, "--operator", help="Who (default: your user name).")


def _saga_state(summary: sagas.SagaSummary, status: SagaStatus | None) -> dict[str, Any]:
    """What the audit record keeps of a saga, before and after an action."""
    return {
        "state": summary.state,
        "execution": summary.execution,
        "waiting_step": None if status is None else status.waiting_step,
        "last_error": None if status is None else status.last_error,
    }


async def settle(
    settings: Settings,
    client: Client,
    saga: SagaDeclaration,
    business_id: str,
    action: str,
    decision: OperatorAction,
) -> str:
    """Act on a saga (``retry``, ``compensate`` or ``resolve``), then record it: what was done.

    Tortoise must be connected to a database whose audit table answers. A record that
    conflicted is refused (``SagaEnded``): the run of its id is another request's. A
    ``retry`` of a saga whose workflow broke restarts it. ``CliError`` if the action was
    done but its record could not be written.
    """
    view = await view_saga(client, saga, business_id)
    if view.record is not None and view.record.conflicted:
        raise sagas.SagaEnded(f"{saga.kind} {business_id} conflicted: {view.record.reason}")
    if view.summary is not None and not view.ours:
        raise sagas.SagaEnded(
            f"workflow {saga.workflow_id(business_id)} was not started for this "
            f"{saga.kind} (another database's or another request's run): nothing was done"
        )
    before = _saga_state(*await sagas.describe_saga(client, saga, business_id))
    done = action
    if action == "retry" and await sagas.is_broken(client, saga, business_id):
        database = await database_identity()
        await restart(client, saga, business_id, settings.task_queue_of(saga), database)
        done, message = "restart", "restarted (a fresh run with the same input)"
    else:
        status = await sagas.act(client, saga, business_id, action, decision)
        message = f"{action} accepted; the saga was {status.state}"
    after = _saga_state(*await sagas.describe_saga(client, saga, business_id))
    line = f"{saga.kind} {business_id}: {message}"
    await record_done(
        settings,
        line,
        decision.operator,
        f"saga.{done}",
        business_id,
        decision.reason,
        before,
        after,
    )
    return line


def _operator_action(
    action: str, business_id: str, kind: str | None, reason: str, operator: str | None
) -> None:
    """Act on a saga, then write the audit record (refused up front if it cannot be written)."""
    settings = load_settings()
    try:
        decision = OperatorAction(reason=reason, operator=operator or default_operator())
    except ValidationError as error:
        fail(f"invalid --reason or --operator: {error.errors()[0]['msg']}", 2)

    async def work(client: Client) -> str:
        saga = await saga_of(client, business_id, kind)
        async with audit_trail(settings):
            return await settle(settings, client, saga, business_id, action, decision)

    typer.echo(with_client(settings, work))


def retry(
    business_id: str = SAGA_ID, kind: str = KIND, reason: str = REASON, operator: str = OPERATOR
) -> None:
    """Run the failed step again; restart a saga whose workflow failed or was terminated."""
    _operator_action("retry", business_id, kind, reason, operator)


def compensate(
    business_id: str = SAGA_ID, kind: str = KIND, reason: str = REASON, operator: str = OPERATOR
) -> None:
    """Give up going forward and undo what was done."""
    _operator_action("compensate", business_id, kind, reason, operator)


def resolve(
    business_id: str = SAGA_ID, kind: str = KIND, reason: str = REASON, operator: str = OPERATOR
) -> None:
    """Mark the saga's record as settled by hand; the saga ends."""
    _operator_action("resolve", business_id, kind, reason, operator)
