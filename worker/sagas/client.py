"""One lazily connected Temporal client per process, with the search attributes in place."""

from __future__ import annotations

import asyncio
import logging

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from worker.config import Settings
from workflows.transfers.shared import SEARCH_ATTRIBUTES

log = logging.getLogger("worker.temporal")


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register the saga's search attributes if the server lacks them (idempotent)."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        for key in SEARCH_ATTRIBUTES
        if key.name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
        log.info("registered search attributes %s", ", ".join(missing))


class TemporalConnection:
    """Connects on first use and keeps the client; a failed attempt is retried next time."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        async with self._lock:
            if self._client is None:
                client = await connect(self._settings)
                try:
                    await ensure_search_attributes(client, self._settings.temporal_namespace)
                except RPCError as error:
                    # Some servers (Temporal Cloud) do not let workers register them:
                    # an operator must, and everything else still works meanwhile.
                    log.warning("could not register the search attributes: %s", error)
                self._client = client
            return self._client
