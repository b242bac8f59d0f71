"""What contexts serve over HTTP: declared beside their CLI, one path per resource."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from worker.bootstrap import contexts
from worker.context import BoundedContext, ContextConflict, Contexts
from worker.web.resources import Resource


async def _nothing(path: Mapping[str, str]) -> None:
    return None


def test_two_contexts_serving_the_same_path_conflict() -> None:
    shelf = Resource("/shelves/{id}", _nothing, "A shelf.")

    with pytest.raises(ContextConflict, match=re.escape("HTTP resource '/shelves/{id}'")):
        Contexts(
            [
                BoundedContext(name="one", handlers={}, resources=(shelf,)),
                BoundedContext(name="two", handlers={}, resources=(shelf,)),
            ]
        )


def test_the_service_serves_each_context_s_resources_and_the_projections_they_read() -> None:
    served = {r.path: r.projection for r in contexts(extra=()).resources}

    assert served == {
        "/accounts/{account_id}": None,
        "/accounts/{account_id}/statement": "account_statement",
        "/customers/{customer_id}": None,
        "/customers/{customer_id}/orders": "customer_orders",
        "/products": None,
        "/products/{sku}": None,
        "/orders/{order_id}": None,
    }
    projections = {s.name for s in contexts(extra=()).subscriptions}
    assert {p for p in served.values() if p} <= projections
