"""Temporal: every declared saga's starter (fed by the outbox), worker, and operations."""
