"""``worker sagas``: find the sagas of every declared kind and settle the ones waiting for
an operator."""

from __future__ import annotations

from typing import Any

import typer
from temporalio.client import Client

from worker.cli.common import fail, load_settings, print_json, shown
from worker.ops import saga_actions
from worker.ops.saga_common import (
    KIND,
    SAGA_ID,
    declared,
    records,
    saga_of,
    ui_link,
    with_client,
)
from worker.sagas import control as sagas
from worker.sagas.declaration import SagaDeclaration
from worker.sagas.settling import SagaView, view_saga

sagas_app = typer.Typer(
    help="Sagas of every kind: list, show, and operator actions.", no_args_is_help=True
)


@sagas_app.command("list")
def list_command(
    state: str = typer.Option(None, "--state", help=f"One of: {', '.join(sagas.STATES)}."),
    kind: str = typer.Option(None, "--kind", help="Only sagas of this kind."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List sagas, newest first, optionally in one state (a visibility query)."""
    if state is not None and state not in sagas.STATES:
        fail(f"unknown state {shown(state)}; choose from {', '.join(sagas.STATES)}", 2)
    listed = declared(kind)
    found = with_client(load_settings(), lambda client: sagas.list_sagas(client, listed, state))
    if as_json:
        print_json([s.to_json() for s in found])
        return
    for saga in found:
        prefix = f"{saga.kind:<12} " if len(listed) > 1 else ""
        typer.echo(
            f"{prefix}{saga.business_id:<24} {saga.state:<15} {saga.execution:<10} "
            f"{saga.started_at:%Y-%m-%d %H:%M:%S}"
        )


@sagas_app.command("show")
def show(
    business_id: str = SAGA_ID,
    kind: str = KIND,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The saga's own state first, then its steps, last error, and its Temporal UI link."""
    settings = load_settings()

    async def work(client: Client) -> tuple[SagaDeclaration, SagaView]:
        saga = await saga_of(client, business_id, kind)
        async with records(settings):
            return saga, await view_saga(client, saga, business_id)

    saga, view = with_client(settings, work)
    link = ui_link(settings, saga.workflow_id(business_id))
    if as_json:
        print_json(view_json(saga, business_id, view, link))
        return
    for line in view_lines(saga, business_id, view):
        typer.echo(line)
    typer.echo(f"ui: {link}")


def view_json(saga: SagaDeclaration, business_id: str, view: SagaView, link: str) -> Any:
    if view.ours and view.summary is not None:
        status = None if view.status is None else view.status.model_dump(mode="json")
        return {**view.summary.to_json(), "ui": link, "status": status}
    ids = {"kind": saga.kind, "id": business_id, saga.id_key: business_id}
    return {
        **ids,
        "state": None if view.record is None else view.record.state,
        "reason": None if view.record is None else view.record.reason,
        "execution": None,
        "started_at": None,
        "workflow_id": saga.workflow_id(business_id),
        "ui": link,
        "status": None,
        "other_run": None if view.summary is None else view.summary.to_json(),
    }


def view_lines(saga: SagaDeclaration, business_id: str, view: SagaView) -> list[str]:
    """This record's own state on the first line: another request's run never shows as it."""
    summary, status, record = view.summary, view.status, view.record
    if view.ours and summary is not None:
        lines = [f"{saga.kind} {business_id}: {summary.state} ({summary.execution})"]
        if status is not None:
            if status.waiting_step:
                lines.append(f"waiting on: {status.waiting_step}")
            if status.last_error:
                lines.append(f"last error: {status.last_error}")
            lines += [
                f"  {s.at:%H:%M:%S} {s.step:<22} {s.status:<9} #{s.attempt}"
                + (f"  {s.detail}" if s.detail else "")
                for s in status.steps
            ]
        return lines
    if record is None:
        lines = [f"{saga.kind} {business_id}: not in this database"]
    elif record.conflicted:
        lines = [f"{saga.kind} {business_id}: {record.state} (not run)", f"reason: {record.reason}"]
    else:
        lines = [f"{saga.kind} {business_id}: {record.state} (its run has not started)"]
    if summary is not None:
        lines.append(
            f"another request's run has the id: {summary.workflow_id} {summary.state} "
            f"({summary.execution}), started {summary.started_at:%Y-%m-%d %H:%M:%S}"
        )
    return lines


for action in (saga_actions.retry, saga_actions.compensate, saga_actions.resolve):
    sagas_app.command(action.__name__)(action)
