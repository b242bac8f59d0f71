"""How a Customer is stored: one row, its two addresses as JSON text.

The times are the customer's own (those of its events), so the columns take them as
given rather than the clock's ``auto_now``.
"""

from __future__ import annotations

import json
from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.customers.customer import Address, Customer, Email
from worker.persistence.store import AggregateStore


class CustomerRow(Model):
    id = fields.CharField(primary_key=True, max_length=64)
    name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=254)
    billing_address = fields.TextField()
    shipping_address = fields.TextField()
    payment_account_id = fields.CharField(max_length=64)
    loyalty_points = fields.BigIntField(default=0)
    version = fields.IntField()
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "customers"


#: The module's tables, registered in the context's tortoise app (imported classes are not).
__models__ = [CustomerRow]


def address_json(address: Address) -> str:
    return json.dumps(address.as_dict(), separators=(",", ":"))


def address_from_json(text: str) -> Address:
    fields = json.loads(text)
    return Address(
        line1=fields["line1"],
        line2=fields.get("line2"),
        city=fields["city"],
        postal_code=fields["postal_code"],
        country=fields["country"],
    )


def customer_to_domain(row: CustomerRow) -> Customer:
    return Customer(
        id=row.id,
        name=row.name,
        email=Email(row.email),
        billing_address=address_from_json(row.billing_address),
        shipping_address=address_from_json(row.shipping_address),
        payment_account_id=row.payment_account_id,
        loyalty_points=row.loyalty_points,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def customer_fields(customer: Customer) -> dict[str, Any]:
    """The row's columns for an aggregate, version excluded (the repository sets it)."""
    return {
        "name": customer.name,
        "email": customer.email.address,
        "billing_address": address_json(customer.billing_address),
        "shipping_address": address_json(customer.shipping_address),
        "payment_account_id": customer.payment_account_id,
        "loyalty_points": customer.loyalty_points,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


CUSTOMERS = AggregateStore.flat(Customer, CustomerRow, customer_to_domain, customer_fields)
