"""Temporal: the client, the saga starter (fed by the outbox), the bus as a dispatcher."""
