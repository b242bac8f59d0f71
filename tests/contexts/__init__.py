"""Bounded contexts that exist only for the tests: each plugs in by its declaration alone."""
