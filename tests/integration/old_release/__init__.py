"""The release before the split (83741ff): its tortoise models and migrations, verbatim.

One app, "worker", held every table. Tests build a database with it, then upgrade it.
"""
