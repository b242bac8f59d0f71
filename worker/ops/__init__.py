"""Operator tools: dead letters, sagas, the audit trail, and reconciliation (``check``)."""
