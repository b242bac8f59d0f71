"""Catalog: products with a price and stock on hand, reserved for orders and committed."""
