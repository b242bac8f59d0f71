"""The pure domain model: aggregates, value objects, events, errors and ports.

Nothing here imports the worker, the workflows or any framework; the tests in
``tests/unit/test_architecture.py`` keep it that way.
"""
