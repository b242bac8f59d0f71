"""Which kind of saga an id names, when the operator does not say (``--kind``)."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from worker.sagas.declaration import SagaDeclaration


class AmbiguousSaga(Exception):
    """Several kinds have a saga of that id: the operator must choose (``--kind``)."""


class NoSuchSaga(Exception):
    """No declared kind has a saga of that id."""


async def kind_of(client: Client, sagas: Sequence[SagaDeclaration], business_id: str) -> str:
    """The one kind in ``sagas`` with a saga of ``business_id``: the only kind declared, or
    else the only one that has such a workflow."""
    if len(sagas) == 1:
        return sagas[0].kind
    found = []
    for saga in sagas:
        try:
            await client.get_workflow_handle(saga.workflow_id(business_id)).describe()
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            continue
        found.append(saga)
    if len(found) == 1:
        return found[0].kind
    if not found:
        ids = ", ".join(saga.workflow_id(business_id) for saga in sagas)
        raise NoSuchSaga(f"no workflow {ids}")
    kinds = ", ".join(saga.kind for saga in found)
    raise AmbiguousSaga(f"sagas of several kinds have the id {business_id!r} ({kinds}): add --kind")
