"""What the ``sagas`` commands share: the declared kinds, the Temporal client, the records."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import typer
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from worker.cli.common import fail, load_settings, open_database, run_async, valid_id
from worker.config import Settings
from worker.context import Contexts
from worker.ops.audit import require_database_file
from worker.persistence import database
from worker.sagas import control as sagas
from worker.sagas.client import connect
from worker.sagas.declaration import SagaDeclaration
from worker.sagas.kinds import AmbiguousSaga, NoSuchSaga, kind_of

T = TypeVar("T")


def catalog() -> Contexts:
    from worker.bootstrap import contexts

    return contexts(load_settings())


def _valid_saga_id(value: str) -> str:
    """Checked before anything connects: an id no saga can have is a usage mistake (exit 2)."""
    kinds = [saga.kind for saga in catalog().sagas]
    return valid_id(kinds[0] if len(kinds) == 1 else "saga")(value)


SAGA_ID = typer.Argument(..., metavar="ID", callback=_valid_saga_id)
KIND = typer.Option(
    None,
    "--kind",
    help="The saga's kind, or its context's name (default: the only one with that id).",
)


def declared(kind: str | None) -> tuple[SagaDeclaration, ...]:
    """The sagas ``--kind`` names (all of them without it); an unknown kind is exit 2."""
    everything = catalog()
    if kind is None:
        return everything.sagas
    try:
        return (everything.saga(kind),)
    except KeyError as unknown:
        fail(str(unknown.args[0]), 2)


async def saga_of(client: Client, business_id: str, kind: str | None) -> SagaDeclaration:
    candidates = declared(kind)
    return catalog().saga(await kind_of(client, candidates, business_id))


def with_client(settings: Settings, work: Callable[[Client], Awaitable[T]]) -> T:
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
        except NoSuchSaga as error:
            fail(f"no such saga: {error}")
        except AmbiguousSaga as error:
            fail(str(error), 2)
        except WorkflowUpdateFailedError as error:
            fail(f"the saga refused: {error.cause}")
        except sagas.SagaEnded as error:
            fail(str(error))

    return run_async(main())


@asynccontextmanager
async def records(settings: Settings) -> AsyncIterator[None]:
    """Tortoise connected, to read a saga's own record (never creating an SQLite file)."""
    require_database_file(settings)
    try:
        await open_database(settings)
        yield
    finally:
        await database.close()


def ui_link(settings: Settings, workflow_id: str) -> str:
    return (
        f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}"
        f"/workflows/{workflow_id}"
    )
