"""One lazily connected Temporal client per process, with the search attributes in place."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from worker.config import Settings
from worker.sagas.declaration import SagaDeclaration
from workflows.saga.types import SAGA_STATE

log = logging.getLogger("worker.temporal")


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


def search_attributes(sagas: Iterable[SagaDeclaration]) -> tuple[SearchAttributeKey[Any], ...]:
    """``SagaState`` and every saga kind's id attribute, each once."""
    keys: dict[str, SearchAttributeKey[Any]] = {SAGA_STATE.name: SAGA_STATE}
    for saga in sagas:
        keys.setdefault(saga.id_attribute.name, saga.id_attribute)
    return tuple(keys.values())


async def ensure_search_attributes(
    client: Client, namespace: str, keys: Sequence[SearchAttributeKey[Any]]
) -> None:
    """Register the sagas' search attributes if the server lacks them (idempotent)."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        for key in keys
        if key.name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
        log.info("registered search attributes %s", ", ".join(missing))


class TemporalConnection:
    """Connects on first use and keeps the client; a failed attempt is retried next time."""

    def __init__(self, settings: Settings, sagas: Iterable[SagaDeclaration]) -> None:
        self._settings = settings
        self._search_attributes = search_attributes(sagas)
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        async with self._lock:
            if self._client is None:
                client = await connect(self._settings)
                try:
                    await ensure_search_attributes(
                        client, self._settings.temporal_namespace, self._search_attributes
                    )
                except RPCError as error:
                    # Some servers (Temporal Cloud) do not let workers register them:
                    # an operator must, and everything else still works meanwhile.
                    log.warning("could not register the search attributes: %s", error)
                self._client = client
            return self._client
