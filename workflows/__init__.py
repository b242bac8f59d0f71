"""Temporal workflows and activities (sagas spanning several aggregates).

Empty until the transfer saga lands; it may import ``domain`` and nothing else of ours.
"""
