"""What customers show of themselves: a customer's JSON, read from a connected database
(the CLI prints it, the HTTP API serves it)."""

from __future__ import annotations

from typing import Any

from worker.contexts.customers.persistence import CustomerRow, customer_to_domain


def _time(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat()


def customer_json(row: CustomerRow) -> dict[str, Any]:
    customer = customer_to_domain(row)
    return {
        "customer_id": customer.id,
        "name": customer.name,
        "email": customer.email.address,
        "payment_account_id": customer.payment_account_id,
        "loyalty_points": customer.loyalty_points,
        "billing_address": customer.billing_address.as_dict(),
        "shipping_address": customer.shipping_address.as_dict(),
        "version": customer.version,
        "created_at": _time(customer.created_at),
        "updated_at": _time(customer.updated_at),
    }


async def read_customers(customer_id: str | None) -> list[dict[str, Any]]:
    query = CustomerRow.all() if customer_id is None else CustomerRow.filter(id=customer_id)
    return [customer_json(row) for row in await query.order_by("id")]
