"""Temporal workflows and activities: sagas spanning several aggregates.

``workflows.saga`` is the base every saga is built on; each context's saga has its
own package (``workflows.transfers``). They may import ``domain`` and nothing else of ours.
"""
