"""An event's payload is stored exactly: nested values keep their form, nothing becomes str()."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.shared.money import Money
from worker.persistence.outbox import jsonable


class Colour(enum.StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    subtotal: Money


def test_nested_value_objects_decimals_enums_and_times_keep_an_exact_json_form() -> None:
    value = {
        "lines": [Line("A-1", 3, Money.of("13.50", "EUR"))],
        "rate": Decimal("0.050"),
        "colour": Colour.RED,
        "at": datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        "tags": ("x", "y"),
    }

    assert json.loads(json.dumps(jsonable(value))) == {
        "lines": [
            {
                "sku": "A-1",
                "quantity": 3,
                "subtotal": {"amount": "13.50", "currency": {"code": "EUR"}},
            }
        ],
        "rate": "0.050",
        "colour": "red",
        "at": "2026-12-01T12:00:00+00:00",
        "tags": ["x", "y"],
    }


@pytest.mark.parametrize("value", [1.5, object(), {1: "a"}, {"set": {1, 2}}])
def test_a_value_without_an_exact_json_form_is_refused_rather_than_stored_as_its_str(
    value: object,
) -> None:
    with pytest.raises(TypeError):
        jsonable(value)
