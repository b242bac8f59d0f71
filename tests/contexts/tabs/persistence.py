"""How a Tab is stored: the tab's row and one row per line, written in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.shared.money import Money
from tests.contexts.tabs.domain import Tab, TabLine, TabStatus
from worker.persistence.store import AggregateStore, ChildRows, ChildRowsOf


class TabRow(Model):
    id = fields.CharField(pk=True, max_length=64)
    account_id = fields.CharField(max_length=64)
    house_account_id = fields.CharField(max_length=64)
    currency = fields.CharField(max_length=3)
    status = fields.CharField(max_length=16)
    reason = fields.TextField(default="")
    version = fields.IntField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "tabs"


class TabLineRow(Model):
    id = fields.BigIntField(pk=True)
    tab_id = fields.CharField(max_length=64, db_index=True)
    line_no = fields.IntField()
    item = fields.CharField(max_length=64)
    quantity = fields.IntField()
    unit_price = fields.DecimalField(max_digits=24, decimal_places=4)

    class Meta:
        table = "tab_lines"
        unique_together = (("tab_id", "line_no"),)


__models__ = [TabRow, TabLineRow]


def tab_to_domain(row: TabRow, children: ChildRowsOf) -> Tab:
    lines: Sequence[Any] = children.get(TabLineRow, [])
    return Tab(
        id=row.id,
        account_id=row.account_id,
        house_account_id=row.house_account_id,
        currency=row.currency,
        lines=[
            TabLine(r.line_no, r.item, r.quantity, Money.of(Decimal(r.unit_price), row.currency))
            for r in lines
        ],
        status=TabStatus(row.status),
        reason=row.reason,
        version=row.version,
    )


def tab_fields(tab: Tab) -> dict[str, Any]:
    return {
        "account_id": tab.account_id,
        "house_account_id": tab.house_account_id,
        "currency": tab.currency,
        "status": tab.status.value,
        "reason": tab.reason,
    }


def line_rows(tab: Tab) -> list[dict[str, Any]]:
    return [
        {
            "line_no": line.line_no,
            "item": line.item,
            "quantity": line.quantity,
            "unit_price": line.unit_price.amount,
        }
        for line in tab.lines
    ]


TABS = AggregateStore(
    Tab, TabRow, tab_to_domain, tab_fields, (ChildRows(TabLineRow, "tab_id", line_rows, "line_no"),)
)
