"""What the customers context lets other contexts read. The only module of this context
another context may import."""

from __future__ import annotations

from domain.customers.customer import Customer
from worker.bus.unit_of_work import UnitOfWork


class CustomerDirectory:
    """A read port for other contexts' handlers (the orders context's, creating an order),
    read in their own unit of work's transaction (``uow.read_port(CustomerDirectory)``)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._customers = uow.repository(Customer)

    async def payment_account_of(self, customer_id: str) -> str | None:
        """The account the customer pays with, or None when there is no such customer."""
        customer = await self._customers.get(customer_id)
        return None if customer is None else customer.payment_account_id
