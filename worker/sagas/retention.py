"""What retention keeps of each declared saga: its step rows, until its record ended."""

from __future__ import annotations

from collections.abc import Iterable

from worker.persistence.retention import KeptSteps
from worker.sagas.declaration import SagaDeclaration


def kept_steps(sagas: Iterable[SagaDeclaration]) -> list[KeptSteps]:
    """What retention must keep for each saga kind: its step rows until its record ended."""
    return [
        KeptSteps(
            kind=saga.kind,
            table=saga.record.table,
            id_column=saga.record.id_column,
            state_column=saga.record.state_column,
            ended=saga.record.ended,
        )
        for saga in sagas
    ]
