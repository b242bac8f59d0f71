"""Tabs, a test-only bounded context: a bar tab with lines, settled by a saga that charges
the guest's account and credits the house's, refunding the guest when the credit fails.

It exists to prove the plug point: it is loaded with
``EXTRA_CONTEXTS=tests.contexts.tabs.declaration:CONTEXT`` and no framework file names it.
This package's ``__init__`` stays empty of imports: the saga's workflow module is
imported into Temporal's sandbox, which must not import the persistence models.
"""
