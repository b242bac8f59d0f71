"""The read side: an event log with gap-free positions, and the handlers that follow it.

Contexts declare projections (keep a read model) and policies (issue commands) in
``BoundedContext.subscriptions``; this package runs them, exactly once per handler.
"""
