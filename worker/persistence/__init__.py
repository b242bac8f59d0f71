"""Tortoise persistence: the unit of work, repositories, the framework's tables,
migrations, retention."""
