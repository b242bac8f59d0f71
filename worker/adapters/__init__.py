"""Adapters: tortoise persistence, the inbox and outbox, RabbitMQ."""
