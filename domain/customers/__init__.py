"""Customers: who orders, where their orders go, and which account pays for them."""
